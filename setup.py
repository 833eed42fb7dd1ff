"""The one compiled part of ragcli: ragcli/retrieval/_topk.c, the exact top-k kernel and the index-time
weights (why C, in its header).

Everything else is declared in pyproject.toml. The extension is optional: without a C compiler the
package still installs, queries run on numpy and weights are computed with numpy (same results,
slower; `ragcli.retrieval.sparse`).
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class BuildExt(build_ext):
    """gcc and clang may fuse a multiply and an add into one rounding (on by default where the CPU has
    the instruction, e.g. arm64): turned off, so that the weights round exactly as numpy's do."""

    def build_extensions(self) -> None:
        if self.compiler.compiler_type == "unix":
            for extension in self.extensions:
                extension.extra_compile_args.append("-ffp-contract=off")
        super().build_extensions()


setup(
    ext_modules=[Extension("ragcli.retrieval._topk", ["ragcli/retrieval/_topk.c"], optional=True)],
    cmdclass={"build_ext": BuildExt},
)
