"""Mutation testing of ragcli's core with mutmut: run it, then print the score per module.

    python scripts/mutation.py run                     # fresh run over every module below, then the score
    python scripts/mutation.py run metrics answers     # only these modules (names from MODULES)
    python scripts/mutation.py run --keep bm25         # reuse mutants/ (stats cache) from an earlier run
    python scripts/mutation.py run --resume            # check what is left unchecked (every module), keeping
                                                       # the verdicts of mutants/ or docs/mutation-verdicts.json
    python scripts/mutation.py score [--survivors]     # the table of the last run (and its survivors)
    python scripts/mutation.py check NAME... -- tests/test_x.py   # re-check survivors against new tests
    python scripts/mutation.py save                    # keep mutants/' verdicts in docs/mutation-verdicts.json

mutants/ is a build folder (not in git), so a clone starts without it. The verdicts are kept in
docs/mutation-verdicts.json (`save`, and every `run` and `check` when it ends): a run in a fresh
clone starts from them, and mutmut re-checks only the functions whose code changed since (it compares
each function's hash), so hours of mutants are not tested again in every checkout.

`make mutation` runs the first line (opt-in: it is not part of `make test`). The mutmut settings
(which files are mutated, which tests run) live in pyproject.toml under [tool.mutmut]; this script
only picks the mutants per module, runs
mutmut under a time limit and turns mutmut's results (mutants/**/*.meta) into one table.

Mutants listed as equivalent in docs/mutation.md (a `ragcli.…__mutmut_N` name in its "Equivalent
mutants" section) leave the denominator, as long as they survive.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
LOG = MUTANTS / "mutmut-run.log"
DOC = ROOT / "docs" / "mutation.md"
VERDICTS = ROOT / "docs" / "mutation-verdicts.json"
KILLED_BY_CHECK = 1  # mutmut's exit code for "the tests failed": what `check` found
SURVIVED = 0  # and for "the tests passed": a `check` survivor where mutmut left no verdict
CHECKED = MUTANTS / "killed-by-check.json"  # check's kills: mutant name -> its function's hash then

# module name → (source file, mutant name patterns). mutmut names a mutant
# "<dotted module>.x_<function>__mutmut_<n>" or "<dotted module>.xǁ<Class>ǁ<method>__mutmut_<n>".
MODULES: dict[str, tuple[str, list[str]]] = {
    "metrics": ("ragcli/evaluation/metrics.py", ["ragcli.evaluation.metrics.*"]),
    "answers": ("ragcli/evaluation/answers.py", ["ragcli.evaluation.answers.*"]),
    "chunking": ("ragcli/chunking.py", ["ragcli.chunking.*"]),
    "bm25": ("ragcli/retrieval/bm25.py", ["ragcli.retrieval.bm25.*"]),
    "sparse": ("ragcli/retrieval/sparse.py", ["ragcli.retrieval.sparse.*"]),
    "tfidf": ("ragcli/retrieval/tfidf.py", ["ragcli.retrieval.tfidf.*"]),
    "fusion": ("ragcli/retrieval/fusion.py", ["ragcli.retrieval.fusion.*"]),
    "store": ("ragcli/store.py", ["ragcli.store.*"]),
    "indexing": ("ragcli/indexing/build.py", ["ragcli.indexing.*"]),
}
ALIASES: dict[str, list[str]] = {}

# mutmut's exit codes → status (mutmut.stats.status_by_exit_code, folded into the columns shown)
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
          35: "suspicious", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout",
          37: "killed", -11: "segfault", -9: "segfault", 2: "interrupted", None: "not checked"}


def selected(names: list[str]) -> list[str]:
    if not names:
        return list(MODULES)
    chosen: list[str] = []
    for name in names:
        if name not in MODULES and name not in ALIASES:
            sys.exit(f"unknown module {name!r}: choose from {', '.join(MODULES)}")
        chosen += [m for m in ALIASES.get(name, [name]) if m not in chosen]
    return chosen


def present(module: str) -> bool:
    return (ROOT / MODULES[module][0]).is_file()


def results(module: str) -> dict[str, int | None]:
    """mutant name → exit code, for the mutants of `module` (empty before a run)."""
    patterns = MODULES[module][1]
    codes: dict[str, int | None] = {}
    checked = killed_by_check()
    for meta in sorted(MUTANTS.glob("ragcli/**/*.py.meta")):  # "indexing" spans several files
        codes.update(with_checks(json.loads(meta.read_text("utf-8")), checked))
    return {k: v for k, v in codes.items() if any(fnmatch.fnmatchcase(k, p) for p in patterns)}


def equivalents() -> set[str]:
    """Mutant names listed under "## Equivalent mutants" in docs/mutation.md."""
    if not DOC.is_file():
        return set()
    text = DOC.read_text("utf-8")
    match = re.search(r"^## Equivalent mutants\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    return set(re.findall(r"ragcli\.[\w.ǁ]+__mutmut_\d+", match.group(1))) if match else set()


def score(modules: list[str], survivors: bool = False) -> float | None:
    """Print the table; returns the overall score in percent (None when nothing was tested)."""
    equivalent = equivalents()
    columns = ("mutants", "killed", "survived", "timeout", "suspicious", "no tests", "not checked", "equivalent")
    rows = []
    left: list[str] = []
    for module in modules:
        codes = results(module)
        if not codes:
            continue
        counts = dict.fromkeys(columns, 0)
        counts["mutants"] = len(codes)
        for name, code in codes.items():
            status = STATUS.get(code, "suspicious")
            if status == "survived" and name in equivalent:
                counts["equivalent"] += 1
                continue
            key = {"segfault": "suspicious", "interrupted": "not checked", "skipped": "not checked"}.get(status, status)
            counts[key] += 1
            if status not in ("killed", "timeout"):
                left.append(f"{status:11} {name}")
        rows.append((module, counts))
    if not rows:
        print("no mutation results: run `make mutation` (or scripts/mutation.py run) first")
        return None
    total = {c: sum(r[c] for _, r in rows) for c in columns}
    header = f"{'module':18}" + "".join(f"{c:>12}" for c in columns) + f"{'score':>9}"
    print(header)
    print("-" * len(header))
    for module, counts in [*rows, ("TOTAL", total)]:
        detected = counts["killed"] + counts["timeout"]
        denominator = counts["mutants"] - counts["equivalent"]
        pct = 100.0 * detected / denominator if denominator else 100.0
        print(f"{module:18}" + "".join(f"{counts[c]:>12}" for c in columns) + f"{pct:>8.1f}%")
    detected = total["killed"] + total["timeout"]
    denominator = total["mutants"] - total["equivalent"]
    overall = 100.0 * detected / denominator if denominator else 100.0
    print(f"\nmutation score: {detected} / {denominator} = {overall:.1f}% "
          f"(killed + timeout over mutants, less {total['equivalent']} equivalent ones listed in docs/mutation.md)")
    if survivors and left:
        print("\nnot killed (`mutmut show NAME` shows the change):")
        print("\n".join(sorted(left)))
    return overall


def function_of(name: str) -> str:
    """The key of a mutant's function in a .meta file's hash_by_function_name ("xǁClassǁmethod")."""
    return name.rsplit("__mutmut_", 1)[0].rpartition(".")[2]


def killed_by_check() -> dict[str, str | None]:
    return json.loads(CHECKED.read_text("utf-8")) if CHECKED.is_file() else {}


def with_checks(data: dict, checked: dict[str, str | None]) -> dict[str, int | None]:
    """A .meta file's verdicts with `check`'s kills added (a running mutmut rewrites the file from what
    it holds, without them), each only while its function's code is the one it was checked against."""
    hashes = data["hash_by_function_name"]
    return {
        name: KILLED_BY_CHECK if name in checked and checked[name] == hashes.get(function_of(name)) else code
        for name, code in data["exit_code_by_key"].items()
    }


def save() -> int:
    """Keep every mutated file's function hashes and verdicts (mutants/**/*.meta, with `check`'s kills)
    in VERDICTS, one line per mutant so that a commit shows which verdicts changed."""
    checked = killed_by_check()
    files = {}
    for meta in sorted(MUTANTS.glob("ragcli/**/*.py.meta")):
        data = json.loads(meta.read_text("utf-8"))
        data["exit_code_by_key"] = with_checks(data, checked)
        files[str(meta.relative_to(MUTANTS))[: -len(".meta")]] = {
            "hash_by_function_name": dict(sorted(data["hash_by_function_name"].items())),
            "exit_code_by_key": dict(sorted(data["exit_code_by_key"].items())),
        }
    if not files:
        print("no mutants/ to save")
        return 1
    lines = ["{"]
    for n, (path, data) in enumerate(files.items()):
        lines.append(f"  {json.dumps(path)}: {{")
        for m, key in enumerate(("hash_by_function_name", "exit_code_by_key")):
            lines.append(f"    {json.dumps(key)}: {{")
            items = list(data[key].items())
            lines += [f"      {json.dumps(k)}: {json.dumps(v)}" + ("," if i < len(items) - 1 else "")
                      for i, (k, v) in enumerate(items)]
            lines.append("    }" + ("," if m == 0 else ""))
        lines.append("  }" + ("," if n < len(files) - 1 else ""))
    lines.append("}")
    VERDICTS.write_text("\n".join(lines) + "\n", "utf-8")
    checked = sum(v is not None for d in files.values() for v in d["exit_code_by_key"].values())
    print(f"saved {checked} verdicts of {sum(len(d['exit_code_by_key']) for d in files.values())} mutants "
          f"in {VERDICTS.relative_to(ROOT)}")
    return 0


def restore() -> None:
    """Give a fresh mutants/ the saved verdicts: mutmut then keeps those of unchanged functions."""
    if not VERDICTS.is_file():
        return
    for path, data in json.loads(VERDICTS.read_text("utf-8")).items():
        meta = MUTANTS / f"{path}.meta"
        if meta.exists():
            continue
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text(json.dumps({**data, "type_check_error_by_key": {}, "durations_by_key": {},
                                    "estimated_durations_by_key": {}}), "utf-8")
        print(f"  restored the verdicts of {path} from {VERDICTS.relative_to(ROOT)}", flush=True)


def record(killed: list[str], survived: list[str] | None = None) -> None:
    """Write `check`'s kills into mutants/' verdicts, so that `score` and `save` count them, and into
    CHECKED with the hash of each one's function (what `save` adds back after a run rewrote them).
    Its survivors become "survived" where mutmut left no verdict (never over one of mutmut's): counted
    against the score like any survivor, unless docs/mutation.md lists them as equivalent."""
    checked = killed_by_check()
    for meta in MUTANTS.glob("ragcli/**/*.py.meta"):
        data = json.loads(meta.read_text("utf-8"))
        codes = data["exit_code_by_key"]
        hits = [name for name in killed if name in codes]
        unchecked = [name for name in survived or [] if name in codes and codes[name] is None]
        if hits or unchecked:
            codes.update(dict.fromkeys(hits, KILLED_BY_CHECK))
            codes.update(dict.fromkeys(unchecked, SURVIVED))
            meta.write_text(json.dumps(data, indent=4), "utf-8")
            checked.update({name: data["hash_by_function_name"].get(function_of(name)) for name in hits})
    CHECKED.write_text(json.dumps(checked, indent=1, sort_keys=True), "utf-8")


def refresh_extensions() -> None:
    """A resumed run re-copies the Python files that changed, but not the compiled extension
    (ragcli/retrieval/_topk*.so): bring mutants/ up to date with the one built here."""
    for built in sorted((ROOT / "ragcli").rglob("*.so")):
        copy = MUTANTS / built.relative_to(ROOT)
        if copy.parent.is_dir() and (not copy.exists() or copy.read_bytes() != built.read_bytes()):
            shutil.copy2(built, copy)
            print(f"  refreshed {copy.relative_to(ROOT)}", flush=True)


def run(modules: list[str], jobs: int, limit: float, keep: bool, resume: bool = False) -> int:
    patterns = [p for m in modules if present(m) for p in MODULES[m][1]]
    if resume:
        # `mutmut run` without names keeps every verdict it has and checks only the rest (and the
        # functions that changed since); given names or patterns, it re-runs all they match. Naming
        # the unchecked mutants one by one made mutmut run their tests by node id in its clean-test
        # step, which failed there without output (2026-12-03, twice) although the same tests pass.
        patterns, keep = [], True
    elif not patterns:
        sys.exit("none of the chosen modules exists")
    if not keep and MUTANTS.exists():
        shutil.rmtree(MUTANTS)  # fresh: no verdict cached from other code or other tests
    MUTANTS.mkdir(exist_ok=True)
    if keep:
        restore()
        refresh_extensions()  # mutants/ keeps the extension it first copied; the tests need today's
    mutmut = Path(sys.executable).parent / "mutmut"
    if not mutmut.exists():
        sys.exit(f"{mutmut} not found: pip install 'mutmut>=3.8,<4' (it is in ragcli's dev extra)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # mutmut puts mutants/ first itself
    command = [str(mutmut), "run", "--max-children", str(jobs), *patterns]
    shown = " ".join(command if len(command) < 20 else [*command[:6], f"... ({len(patterns)} names)"])
    print(f"$ {shown}\n  (output in {LOG.relative_to(ROOT)}, limit {limit:.0f} s)", flush=True)
    started = time.monotonic()
    with open(LOG, "a" if keep else "w", encoding="utf-8") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            code = process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            print(f"mutmut ran out of time ({limit:.0f} s): the table counts what it finished", flush=True)
            code = 124
    print(f"mutmut finished in {time.monotonic() - started:.0f} s (exit code {code})\n", flush=True)
    if code in (0, 124):
        save()
    else:  # a failed mutmut may have reset mutants/' verdicts: saving them would lose the kept ones
        print(f"{VERDICTS.relative_to(ROOT)} left as it was: mutmut failed", flush=True)
        print("".join(LOG.read_text("utf-8", "replace").splitlines(keepends=True)[-40:])[-6000:])
    return code


def _apply(target: Path, diff: str, indent: str) -> bool:
    """Apply a `mutmut show` diff (one function, dedented by `indent` except inside multi-line strings)
    to `target`: find the lines the diff replaces, compared without their indentation, exactly once,
    keep the file's own context lines and put the added lines in at `indent`. (patch(1) anchors a
    hunk without trailing context to the end of the file, so a change on a function's last line
    would never apply.)"""
    lines = target.read_text("utf-8").splitlines(keepends=True)
    hunks: list[list[tuple[str, str]]] = []
    for line in diff.splitlines()[2:]:
        if line.startswith("@@"):
            hunks.append([])
        elif hunks and line[:1] in (" ", "-", "+", ""):
            hunks[-1].append((line[:1] or " ", line[1:]))
    for hunk in hunks:
        old = [body.strip() for op, body in hunk if op != "+"]
        starts = [i for i in range(len(lines) - len(old) + 1)
                  if [line.strip() for line in lines[i:i + len(old)]] == old]
        if len(starts) != 1:
            return False
        at, new = starts[0], []
        for op, body in hunk:
            if op == " ":
                new.append(lines[at])
            elif op == "+":
                new.append(indent + body + "\n" if body.strip() else "\n")
            at += op != "+"
        lines[starts[0]:at] = new
    target.write_text("".join(lines), "utf-8")
    return True


def _try(target: Path, diff: str, indent: str, pytest_args: list[str]) -> str:
    original = target.read_bytes()
    try:
        if not _apply(target, diff, indent):
            return "stale"
        try:  # a diff that applies yet breaks the file would count as killed
            compile(target.read_bytes(), str(target), "exec")
        except SyntaxError:
            return "broken"
        tests = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *pytest_args],
                               cwd=ROOT, capture_output=True, text=True)
        return "killed" if tests.returncode != 0 else "survived"
    finally:
        target.write_bytes(original)


def check(names: list[str], pytest_args: list[str], source_root: Path) -> int:
    """Apply each named mutant (its `mutmut show` diff, from `source_root`'s mutants/) to this tree's
    file, run the given tests, restore the file: whether new tests kill old survivors, in seconds
    instead of a whole run. A mutant whose diff no longer applies (the code changed) is "stale"."""
    mutmut = Path(sys.executable).parent / "mutmut"
    verdicts: dict[str, str] = {}
    for name in names:
        shown = subprocess.run([str(mutmut), "show", name], cwd=source_root, capture_output=True, text=True)
        diff = shown.stdout[shown.stdout.find("--- "):] if "--- " in shown.stdout else ""
        target = ROOT / diff.splitlines()[0][4:].strip() if diff else None
        indent = "    " if "ǁ" in name else ""  # a method: mutmut shows it dedented, out of its class
        verdicts[name] = "no diff" if target is None or not target.is_file() else _try(target, diff, indent, pytest_args)
        print(f"{verdicts[name]:9} {name}", flush=True)
    left = [n for n, v in verdicts.items() if v != "killed"]
    print(f"\n{len(verdicts) - len(left)} of {len(verdicts)} killed")
    if source_root == ROOT and verdicts:
        record([n for n, v in verdicts.items() if v == "killed"], [n for n, v in verdicts.items() if v == "survived"])
        save()
    return 1 if left else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="run mutmut, then print the score")
    run_p.add_argument("modules", nargs="*", help=f"some of: {', '.join(MODULES)} (default: all)")
    run_p.add_argument("--jobs", type=int, default=2, help="mutants tested at once (default 2)")
    run_p.add_argument("--timeout", type=float, default=3600, help="seconds for the whole run (default 3600)")
    run_p.add_argument("--keep", action="store_true", help="keep mutants/ from an earlier run (cached verdicts)")
    run_p.add_argument("--resume", action="store_true", help="continue a cut-short run in mutants/: only what it left unchecked, every configured module")
    sub.add_parser("save", help=f"keep mutants/' verdicts in {VERDICTS.relative_to(ROOT)}")
    score_p = sub.add_parser("score", help="print the score of the last run")
    score_p.add_argument("modules", nargs="*")
    for p in (run_p, score_p):
        p.add_argument("--fail-under", type=float, default=None, help="exit 1 below this score (percent)")
        p.add_argument("--survivors", action="store_true", help="list the mutants not killed")
    check_p = sub.add_parser("check", help="apply named mutants one by one and run the given tests (after --)")
    check_p.add_argument("names", nargs="+", help="mutant names (`score --survivors` lists them)")
    check_p.add_argument("--mutants-from", type=Path, default=ROOT,
                         help="the checkout whose mutants/ holds them (default: this one)")
    argv = sys.argv[1:]
    pytest_args = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if args.command == "save":
        return save()
    if args.command == "check":
        return check(args.names, pytest_args or ["tests"], args.mutants_from.resolve())
    modules = selected(args.modules)
    if args.command == "run":
        code = run(modules, args.jobs, args.timeout, args.keep, args.resume)
        if code not in (0, 124):
            return code
    overall = score(modules, args.survivors)
    if args.fail_under is not None and (overall is None or overall < args.fail_under):
        print(f"below the required {args.fail_under:.0f}%")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
