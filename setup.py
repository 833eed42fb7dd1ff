"""The one compiled part of ragcli: the exact top-k kernel (ragcli/retrieval/_topk.c, why in its header).

Everything else is declared in pyproject.toml. The extension is optional: without a C compiler the
package still installs and queries run on numpy (same results, slower; `ragcli.retrieval.sparse`).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("ragcli.retrieval._topk", ["ragcli/retrieval/_topk.c"], optional=True)])
