"""Command-line options declared once and reused by every command that takes them (as sqlite-utils
does with its option groups), so `query` and `evaluate` cannot drift apart in names, defaults or help.

Help texts are plain text: the app renders help without Rich markup, so `[default: …]` and other
bracketed words show as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

DEFAULT_QUESTION_TOP_K = 5

IndexDir = Annotated[
    Optional[Path],
    typer.Option("--index", "-i", help="Index folder [default: $RAGCLI_INDEX or ./.ragcli].", show_default=False),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of tables.")]
SkipInvalid = Annotated[
    bool, typer.Option(help="Skip malformed records or lines (and report them) instead of stopping.")
]
Wait = Annotated[bool, typer.Option(help="Wait for another build of the same index to finish.")]

# retrieval
Retriever = Annotated[
    str,
    typer.Option("--retriever", "-r", help="bm25, tfidf, dense, hybrid (RRF), hybrid-zscore or a plugin's retriever."),
]
Retrievers = Annotated[
    str, typer.Option("--retriever", "-r", help="Retrievers to compare, comma-separated: bm25,tfidf.")
]
RrfK = Annotated[int, typer.Option(min=1, help="Hybrid: the k of reciprocal rank fusion.")]
DenseWeight = Annotated[float, typer.Option(min=0.0, max=1.0, help="hybrid-zscore: the dense scores' weight.")]

# generation
Generator = Annotated[
    str, typer.Option("--generator", "-g", help="auto, transformers, extractive or a plugin's generator.")
]
Model = Annotated[
    Optional[str],
    typer.Option(
        "--model",
        "-m",
        help="Hub id or local folder [default: $RAGCLI_MODEL or google/flan-t5-base].",
        show_default=False,
    ),
]
MaxNewTokens = Annotated[int, typer.Option(min=1, help="Longest answer, in tokens.")]
BatchSize = Annotated[int, typer.Option(min=1, help="Questions generated together.")]
Device = Annotated[str, typer.Option(help="auto, cpu, cuda or mps.")]

# dense embedding
EmbeddingModel = Annotated[str, typer.Option(help="Sentence-embedding model: hub id or local folder.")]
EmbeddingPrecision = Annotated[
    str, typer.Option(help="int8 (ONNX Runtime, faster, same quality on SciFact) or fp32 (PyTorch).")
]
EmbeddingBatchSize = Annotated[int, typer.Option(min=1, help="Passages embedded together.")]
