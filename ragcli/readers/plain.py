"""Text under any name: source code and configuration by suffix, and any other file whose content is text.

Two readers, asked in this order after the format readers:

- `code` claims source code and configuration files by suffix (`.py`, `.go`, `.yaml`, `.ini`, `.sql`…)
  and reads each whole, titled by its file name, so `line` citations point into the file as it is;
  its definitions (functions, classes, sections) are where the chunker cuts it.
- `plain` is the fallback (`fallback = True`, see `readers.base.reader_for`): it claims every name no
  other reader claims, except well-known binary suffixes (`.png`, `.zip`, `.so`…, skipped by name
  without being opened), and decides from the first bytes whether the file is text (`looks_like_text`).
  That is how `README`, `NEWS`, `LICENSE`, `copyright`, `Makefile`, `changelog.Debian.gz` and
  `notes.1` are read, and why a binary file without a suffix is skipped as "binary content" (a PDF or an
  Office file as what it looks like: `SourceInput.binary_reason`).

`.gz` needs nothing here: the walk decompresses, and both readers look through the `.gz`
(`README.gz` and `foo.py.gz` are read like `README` and `foo.py`).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path

from ragcli.readers.base import BINARY_SNIFF_BYTES, SourceInput, SuffixReader, file_name, inner_suffix
from ragcli.readers.definitions import definition_headings
from ragcli.readers.generated import generated_by_content
from ragcli.readers.text import Rejecter, first_line_title, read_text_document
from ragcli.records import Document


def _suffixes(*groups: str) -> frozenset[str]:
    """A set of suffixes from space-separated lists (easier to read and extend than a list literal)."""
    return frozenset(" ".join(groups).split())


CODE_SUFFIXES = _suffixes(
    # programming languages
    ".py .pyi .pyx .js .mjs .cjs .jsx .ts .tsx .mts .cts .vue .svelte .go .rs .java .kt .kts .scala .sc "
    ".groovy .gradle .clj .cljs .cljc .edn .c .h .cc .cpp .cxx .c++ .hpp .hh .hxx .h++ .inl .ipp .m .mm .cs .fs "
    ".fsx .vb .swift .rb .rake .gemspec .php .pl .pm .pod .t .lua .r .jl .hs .lhs .ml .mli .ex .exs .erl .hrl "
    ".el .lisp .lsp .scm .ss .rkt .dart .zig .nim .cr .d .f .f90 .f95 .for .ada .adb .ads .pas .pp .tcl .v .sv "
    ".vhd .vhdl .s .asm .awk .sed .vim .cu .cuh .proto .thrift .graphql .gql .sol .wat "
    # shells and build files
    ".sh .bash .zsh .ksh .csh .tcsh .fish .ps1 .psm1 .psd1 .bat .cmd .mk .mak .cmake .bazel .bzl .nix "
    ".dockerfile .containerfile .just "
    # configuration and data written by hand
    ".yaml .yml .toml .ini .cfg .conf .config .cnf .properties .prefs .env .service .socket .timer .target "
    ".mount .path .rules .desktop .hcl .tf .tfvars .xml .xsd .xsl .xslt .dtd .plist .sql "
    # documents written as source, and text records
    # (.org .adoc .asciidoc .tex .texi .texinfo: readers.outline, which cuts them at their headings)
    ".sty .cls .bib .bst .textile .wiki .creole .pod6 .rdoc .man "
    ".css .scss .sass .less .log .diff .patch .po .pot .srt .vtt .ics .vcf",
)

# Names ragcli never reads as text: images, audio and video, archives and compressed data other than
# gzip, compiled code, fonts, office and e-book files, databases and array files. Skipped by name,
# without being opened, as "unsupported file type" (a format reader, like a PDF one, still claims its
# own suffix first). Anything else is sniffed.
BINARY_SUFFIXES = _suffixes(
    ".png .jpg .jpeg .gif .bmp .ico .icns .tif .tiff .webp .avif .heic .psd .xcf .svg .svgz .eps .ps .ai "
    ".mp3 .mp4 .m4a .m4v .wav .ogg .oga .ogv .flac .opus .aac .wma .avi .mkv .mov .webm .mpg .mpeg .wmv .mid "
    ".midi .zip .tar .tgz .tbz2 .txz .bz2 .xz .zst .lz .lz4 .lzma .z .7z .rar .cab .jar .war .ear .whl .egg "
    ".deb .udeb .rpm .apk .ipa .iso .img .dmg .msi .snap .o .obj .a .lib .so .dll .dylib .exe .bin .elf .ko "
    ".class .pyc .pyo .pyd .wasm .mo .gmo .ttf .otf .woff .woff2 .eot .pfb .pfm .afm .pdf .doc .docx .xls "
    ".xlsx .ppt .pptx .odt .ods .odp .odg .epub .mobi .azw3 .djvu .dvi .chm .db .sqlite .sqlite3 .mdb .npy .npz "
    ".pkl .pickle .joblib .h5 .hdf5 .parquet .feather .arrow .onnx .pt .pth .safetensors .ckpt .tfrecord "
    ".gpg .pgp .p12 .pfx .der .keystore .swp .swo",
)

_CONTROL = re.compile(rb"[\x01-\x07\x0e-\x1a\x1c-\x1f\x7f]")  # not tab, newline, CR, FF, VT, backspace, escape
MAX_CONTROL_SHARE = 0.01  # of the sniffed bytes, in a file that is not UTF-8


def looks_like_text(head: bytes) -> bool:
    """Whether a file whose first bytes are `head` (up to BINARY_SNIFF_BYTES) is text.

    The rule: a NUL byte means binary (git's and ripgrep's rule: every common binary format has one
    early, and no text encoding but UTF-16/32 does; those, with a byte-order mark, reach readers
    already converted to UTF-8 by `readers.wide`). Otherwise valid UTF-8 (a character cut at the end
    of the window is fine) is text. Otherwise the bytes are taken for a legacy 8-bit encoding
    (Latin-1, Windows-1252, KOI8…), in which letters may be any byte from 0x80 up but C0 control
    characters almost never appear: it is text unless more than 1% of the bytes are control
    characters other than tab, line breaks, form feed, backspace (nroff's overstrike) and escape
    (terminal colours). Random bytes are about 8% such control characters and are invalid UTF-8.
    """
    head = head[:BINARY_SNIFF_BYTES]
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return True
    except UnicodeDecodeError:
        pass
    return len(_CONTROL.findall(head)) <= MAX_CONTROL_SHARE * len(head)


def _no_title(text: str) -> str | None:
    return None


def _generated(source: SourceInput) -> Rejecter | None:
    """What leaves the file out when it turns out generated or minified (None with `--generated`, or
    for a file named on the command line)."""
    if source.context.generated or source.named:
        return None
    name = file_name(source.path)
    return lambda text: generated_by_content(name, text)


class CodeReader(SuffixReader):
    """Source code and configuration: the whole file, titled by its file name, cut into passages at its
    definitions where ragcli knows the language's (`readers.definitions`)."""

    name = "code"
    # 2: a notice that other files are generated ("generated from this file") no longer skips it;
    # 3: a notice after PHP's `<?php` or an XML declaration skips it; 4: a short one-line .js/.css file
    # is not minified, and a definition inside a column-0 `if` is no method of the class above it
    version = 4
    suffixes = CODE_SUFFIXES

    def read(self, source: SourceInput) -> Iterator[Document]:
        for document in read_text_document(source, _no_title, file_name(source.path), _generated(source)):
            document.headings = definition_headings(document.text, source.suffix)
            yield document


class PlainTextReader:
    """Any file no other reader claims, when its content is text (the fallback reader)."""

    name = "plain"
    version = 5  # 4: as the code reader's 4; 5: a PDF (`%PDF-`) is no text, whatever its bytes
    fallback = True

    def claims(self, path: Path) -> bool:
        return inner_suffix(path) not in BINARY_SUFFIXES

    def folder_files(self, folder: Path) -> list[Path] | None:
        return None

    def read(self, source: SourceInput) -> Iterator[Document]:
        source.sniff_binary(looks_like_text)
        return read_text_document(source, first_line_title, file_name(source.path), _generated(source))


CODE = CodeReader()
PLAIN = PlainTextReader()
