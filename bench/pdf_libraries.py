"""Which PDF library ragcli reads PDFs with: pypdf, pdfminer.six and pypdfium2 side by side.

    pip install pypdf pdfminer.six pypdfium2 fpdf2
    python bench/pdf_libraries.py [--runs 3] [PDF ...]

For each PDF (default: the real PDFs under /usr/share/doc, plus one generated here from SciFact
abstracts, whose words are known) and each library: seconds to extract the text of every page (median
of `--runs`, libraries alternated), pages, words, glued tokens (a run of 25+ letters: spaces lost),
and for the generated PDF the share of its words each library gives back (multiset recall).
The load average is printed: the machine is shared, so compare the columns, not the absolute times.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCIFACT = ROOT.parent / "shared" / "datasets" / "scifact" / "corpus.jsonl"
REAL = [
    Path("/usr/share/doc/libtasn1-doc/libtasn1.pdf"),
    Path("/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf"),
]
WORD = re.compile(r"[A-Za-z]+")
GLUED = re.compile(r"[A-Za-z]{25,}")


def with_pypdf(path: Path) -> list[str]:
    import pypdf

    return [page.extract_text() or "" for page in pypdf.PdfReader(path).pages]


def with_pdfminer(path: Path) -> list[str]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    return [
        "".join(el.get_text() for el in layout if isinstance(el, LTTextContainer)) for layout in extract_pages(path)
    ]


def with_pypdfium2(path: Path) -> list[str]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


LIBRARIES: dict[str, Callable[[Path], list[str]]] = {
    "pypdf": with_pypdf,
    "pdfminer.six": with_pdfminer,
    "pypdfium2": with_pypdfium2,
}


def generated(folder: Path, pages: int = 20) -> tuple[Path, list[str]]:
    """A PDF of SciFact abstracts (core font, Latin-1), and its words."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    words: list[str] = []
    opener = gzip.open if SCIFACT.suffix == ".gz" else open
    with opener(SCIFACT, "rt", encoding="utf-8") as lines:
        for _, line in zip(range(pages), lines, strict=False):
            text = json.loads(line)["text"].encode("latin-1", "ignore").decode("latin-1")
            pdf.add_page()
            pdf.multi_cell(0, 6, text)
            words += WORD.findall(text)
    path = folder / "scifact-abstracts.pdf"
    pdf.output(str(path))
    return path, words


def recall(known: list[str], text: str) -> float:
    want, got = Counter(w.lower() for w in known), Counter(w.lower() for w in WORD.findall(text))
    return sum(min(n, got[w]) for w, n in want.items()) / max(1, sum(want.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("pdfs", nargs="*", type=Path)
    options = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        made, words = generated(Path(tmp))
        pdfs = [*(options.pdfs or [p for p in REAL if p.exists()]), made]
        print(f"| PDF | library | pages | s (median of {options.runs}) | words | glued tokens | words recovered |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        for pdf in pdfs:
            times: dict[str, list[float]] = {name: [] for name in LIBRARIES}
            texts: dict[str, list[str]] = {}
            for _ in range(options.runs):
                for name, extract in LIBRARIES.items():
                    started = time.perf_counter()
                    texts[name] = extract(pdf)
                    times[name].append(time.perf_counter() - started)
            for name in LIBRARIES:
                text = "\n".join(texts[name])
                recovered = f"{recall(words, text):.1%}" if pdf == made else ""
                print(
                    f"| {pdf.name} | {name} | {len(texts[name])} | {statistics.median(times[name]):.3f} "
                    f"| {len(WORD.findall(text)):,} | {len(GLUED.findall(text))} | {recovered} |"
                )


if __name__ == "__main__":
    main()
