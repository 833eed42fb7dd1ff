"""Which files of a walked folder are read: `.gitignore` / `.ignore` files and `--include` / `--exclude`.

Patterns follow git's own rules (gitignore syntax, matched by the `pathspec` library's GitIgnoreSpec
on its RE2 backend, as ripgrep's ignore crate does with its own regex engine): `*.log`, `/build`, `docs/**/*.md`, `!keep.log`. A pattern without a
slash matches at any depth; one with a slash is anchored to the folder of the file that holds it (for
globs: the root walked); `**` spans folders.

- Ignore files are read in every folder walked (the root and below; the folders above a root are not
  consulted). A deeper file's patterns win over a shallower one's, a later line over an earlier one,
  and `.ignore` over `.gitignore` in the same folder (ripgrep's order), so `!pattern` re-includes. A
  folder that is ignored is not entered, so nothing under it can be re-included (git's rule too).
- `--exclude GLOB` leaves out matching files and folders (a folder is not entered); `--include GLOB`,
  when given, reads only the files that match one. Both are relative to the root walked.
- A file named on the command line is read whatever the rules say (the user chose it).

The walk (`readers.walk`) opens the ignore files (it is the one place that opens corpus files) and
hands their lines here; this module only matches paths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ragcli.errors import InvalidOptionError
from ragcli.readers.base import valid_unicode
from ragcli.records import composed

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

IGNORE_FILES = (".gitignore", ".ignore")  # in this order: .ignore's patterns win (as in ripgrep)
MAX_IGNORE_FILE_BYTES = 1 << 20  # an ignore file is patterns, not data: a larger one is read this far


@dataclass(frozen=True)
class Selection:
    """What the walk leaves out: ignore files (unless `ignore_files` is off) and the globs."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    ignore_files: bool = True

    def to_dict(self) -> dict[str, Any]:
        """As the manifest records it (`ragcli index` without paths reuses it)."""
        return {"include": list(self.include), "exclude": list(self.exclude), "ignore_files": self.ignore_files}

    @classmethod
    def from_dict(cls, data: Any) -> Selection:
        """From a manifest's record (already checked by `safeload.check_manifest`); none: the defaults."""
        if not isinstance(data, dict):
            return cls()
        return cls(tuple(data.get("include", ())), tuple(data.get("exclude", ())), bool(data.get("ignore_files", True)))

    def updated(
        self, include: list[str] | None = None, exclude: list[str] | None = None, ignore_files: bool | None = None
    ) -> Selection:
        """This selection with the options a user gave replacing their recorded values (None: keep)."""
        return Selection(
            tuple(include) if include is not None else self.include,
            tuple(exclude) if exclude is not None else self.exclude,
            self.ignore_files if ignore_files is None else ignore_files,
        )

    def check(self) -> None:
        """Refuse a glob git's syntax does not allow (exit 2), before any work starts."""
        for option, globs in (("--include", self.include), ("--exclude", self.exclude)):
            for glob in globs:
                if not glob.strip() or glob.strip().startswith("#"):
                    raise InvalidOptionError(f"{option} {glob!r}: an empty glob (or a comment) matches nothing")
                check_glob(option, glob)


def check_glob(option: str, glob: str, hint: str = "use gitignore syntax: '*.md', 'docs/**'") -> None:
    """Refuse (exit 2) a glob git's syntax does not allow, such as a reversed range `[z-a]` or a `[`
    never closed (git discards that pattern), which would match nothing without a word (`--include`,
    `--exclude`, and `query --path`)."""
    try:
        spec = _spec([glob])
    except ValueError as exc:
        raise InvalidOptionError(
            f"{option} {glob!r}: not a valid glob ({_in_the_glob(str(exc), glob)})", hint=hint
        ) from None
    discarded = all(pattern.include is None for pattern in spec.patterns)  # as blank and comment lines are
    if discarded and "[" in glob and not glob.startswith("#"):
        raise InvalidOptionError(
            f"{option} {glob!r}: not a valid glob (a '[' is never closed)",
            hint=f"write '[[]' for a literal '['; {hint}",
        )


def _in_the_glob(said: str, glob: str) -> str:
    """The regular expression compiler's complaint about the expression `glob` became, said of the glob:
    its "at position 10" counts in the expression, which the user never wrote; a bad range named is
    found in the glob instead (1-based)."""
    said = re.sub(r" at position \d+", "", said)
    bad = re.match(r"bad character range (\S+)", said)
    at = glob.find(bad.group(1)) if bad else -1
    return f"{said} at character {at + 1} of the glob" if at >= 0 else said


def _git_contents(line: str) -> str:
    """A pattern as git reads it: `logs/**` matches everything inside logs/ but not the folder itself,
    which pathspec matches too (so the folder was never entered and `!logs/keep.txt` could not
    re-include a file git keeps); written `logs/**/*`, it matches what git's does."""
    pattern = line.rstrip(" ")
    return f"{pattern}/*" if pattern.endswith("/**") and pattern.lstrip("!") != "/**" else line


def _spec(lines: list[str]) -> GitIgnoreSpec:
    """Compiled patterns, matched by RE2 (google-re2): linear time in the path's length whatever the
    pattern. Python's own `re` backtracks: one crafted `.gitignore` line like `*a*a*a*a*z` took
    seconds per path (exponential in the stars), and a corpus is untrusted. Any compile error is a
    ValueError; compile warnings are not printed."""
    import warnings

    from pathspec import GitIgnoreSpec  # imported only when there is a pattern to match

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            lines = [_git_contents(composed(line)) for line in lines]  # as `leaves_out`'s paths
            return GitIgnoreSpec.from_lines(lines, backend="re2")
        except ValueError:
            raise
        except Exception as exc:  # re.error, re2's Error: a pattern git would not accept either
            raise ValueError(str(exc)) from None


def parse_ignore_file(data: bytes) -> list[str]:
    """The pattern lines of an ignore file; lines git would not accept are dropped, as git drops them. A
    UTF-8 byte-order mark (Notepad's) is no part of the first pattern: git skips it too."""
    lines = data.decode("utf-8-sig", "replace").splitlines()  # RE2 matches valid Unicode only
    try:
        _spec(lines)
        return lines
    except ValueError:
        good = []
        for line in lines:
            try:
                _spec([line])
            except ValueError:
                continue
            good.append(line)
        return good


@dataclass(frozen=True)
class Rules:
    """The rules in force in one folder: the ignore files met from the root down (each with the folder
    it lies in, relative to the root, as `a/b/`), and the globs. Shared by sibling folders; a folder
    with ignore files of its own gets a new one (`within`)."""

    chain: tuple[tuple[str, GitIgnoreSpec], ...] = ()
    include: GitIgnoreSpec | None = None
    exclude: GitIgnoreSpec | None = None
    ignore_files: bool = True
    _empty: bool = field(default=True, compare=False)

    @classmethod
    def of(cls, selection: Selection) -> Rules:
        include = _spec(list(selection.include)) if selection.include else None
        exclude = _spec(list(selection.exclude)) if selection.exclude else None
        return cls((), include, exclude, selection.ignore_files, include is None and exclude is None)

    def within(self, folder: str, lines: list[str]) -> Rules:
        """The rules for `folder` (relative to the root, ending in '/' unless it is the root) holding an
        ignore file with `lines`."""
        if not lines:
            return self
        folder = composed(folder)  # a prefix of `leaves_out`'s path
        return Rules((*self.chain, (folder, _spec(lines))), self.include, self.exclude, self.ignore_files, False)

    def leaves_out(self, rel: str, is_dir: bool) -> bool:
        """Whether the file or folder at `rel` (relative to the root, '/'-separated) is left out."""
        if self._empty:
            return False
        rel = valid_unicode(rel)  # a name that is not UTF-8 is matched with � for its bad bytes
        # and in NFC, as the patterns are: macOS writes names decomposed, a glob is typed composed
        rel = composed(rel)
        path = f"{rel}/" if is_dir else rel
        for folder, spec in reversed(self.chain):  # the deepest ignore file that has a say decides
            decision = spec.check_file(path[len(folder) :]).include
            if decision is not None:
                if decision:
                    return True
                break
        if self.exclude is not None and self.exclude.match_file(path):
            return True
        return not is_dir and self.include is not None and not self.include.match_file(rel)
