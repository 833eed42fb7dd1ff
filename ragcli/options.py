"""Command-line options declared once and reused by every command that takes them (as sqlite-utils
does with its option groups), so `query` and `evaluate` cannot drift apart in names, defaults or help.

Help texts are plain text: the app renders help without Rich markup, so `[default: …]` and other
bracketed words show as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

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

# ragcli index
Paths = Annotated[
    Optional[list[Path]],
    typer.Argument(
        help="Files and folders to index (folders are walked) [default: the roots the index was built from].",
        show_default=False,
    ),
]
Rebuild = Annotated[bool, typer.Option(help="Read every file again instead of reusing unchanged ones.")]
Jobs = Annotated[
    Optional[int], typer.Option(min=1, help="Tokenising processes [default: CPU count, at most 4].", show_default=False)
]
Dense = Annotated[
    Optional[bool],
    typer.Option(
        "--dense/--no-dense",
        help="Embed passages for dense and hybrid retrieval (needs ragcli[dense]) [default: keep what the index has].",
        show_default=False,
    ),
]
ChunkSize = Annotated[int, typer.Option(help="Passage size in words; 0 keeps documents whole.")]
ChunkOverlap = Annotated[int, typer.Option(help="Words shared by consecutive passages.")]
Language = Annotated[
    str, typer.Option("--language", "-l", help="Analyzer language: en, es, fr, de, pt, it, nl, da, no, sv, ru, tr.")
]
Stopwords = Annotated[bool, typer.Option(help="Drop the language's stopwords.")]
Stem = Annotated[bool, typer.Option(help="Stem words (Snowball / Porter).")]
BM25Variant = Annotated[str, typer.Option(help="lucene, robertson, atire, okapi, bm25l or bm25+.")]
K1 = Annotated[
    Optional[float], typer.Option(help="BM25 k1 [default: 1.0; okapi/bm25l/bm25+: 1.5].", show_default=False)
]
B = Annotated[Optional[float], typer.Option(help="BM25 b [default: 0.6; okapi/bm25l/bm25+: 0.75].", show_default=False)]
Delta = Annotated[Optional[float], typer.Option(help="BM25L/BM25+ delta [default: 0.5 / 1.0].", show_default=False)]
IdField = Annotated[
    Optional[str], typer.Option(help="Record field holding the id [default: _id, id, docid].", show_default=False)
]
TextField = Annotated[
    Optional[str],
    typer.Option(help="Record field holding the text [default: text, contents, body].", show_default=False),
]
TitleField = Annotated[
    Optional[str], typer.Option(help="Record field holding the title [default: title].", show_default=False)
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar, no summary.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="List every skipped file with its reason.")]

# ragcli query
Question = Annotated[
    str,
    typer.Argument(
        help="The question; '-' reads one question per line from stdin (JSON Lines out).", show_default=False
    ),
]
QueryTopK = Annotated[int, typer.Option("--top-k", "-k", min=1, help="How many passages to retrieve.")]
Generate = Annotated[
    bool, typer.Option("--generate/--no-generate", help="Write an answer from the passages, or only retrieve them.")
]
PromptTemplate = Annotated[
    Optional[Path], typer.Option(help="A prompt template file with {passages} and {question}.", show_default=False)
]
NumBeams = Annotated[int, typer.Option(min=1, help="Beam search width (1: greedy).")]
Temperature = Annotated[float, typer.Option(min=0.0, help="Sampling temperature; 0 decodes greedily (deterministic).")]
TopP = Annotated[float, typer.Option(min=0.0, max=1.0, help="Nucleus sampling mass (with --temperature > 0).")]
Seed = Annotated[int, typer.Option(help="Random seed for sampling.")]
Threads = Annotated[
    Optional[int], typer.Option(min=1, help="CPU threads for the model [default: torch's choice].", show_default=False)
]

# ragcli info
Verify = Annotated[bool, typer.Option(help="Re-hash every payload against the manifest's checksums.")]

# ragcli evaluate and ragcli tune
Dataset = Annotated[
    Path,
    typer.Argument(help="A qa.jsonl file, or a BEIR folder (corpus.jsonl, queries.jsonl, qrels/).", show_default=False),
]
Split = Annotated[str, typer.Option(help="BEIR qrels split (qrels/<split>.tsv).")]
Cutoffs = Annotated[str, typer.Option("--k", help="Cut-offs for the @k metrics, comma-separated.")]
Depth = Annotated[int, typer.Option(min=1, help="Documents ranked per query (for MAP and the run file).")]
EvaluateGenerate = Annotated[
    bool,
    typer.Option("--generate/--no-generate", help="Also answer the questions with gold answers and score the answers."),
]
Context = Annotated[
    bool,
    typer.Option(
        "--context/--no-context", help="--no-context adds a closed-book column: the generator without passages."
    ),
]
GeneratorTopK = Annotated[int, typer.Option("--top-k", min=1, help="Passages given to the generator.")]
PerQuery = Annotated[
    Optional[Path], typer.Option(help="Write each query's hits, metrics and answer as JSON Lines.", show_default=False)
]
RunFile = Annotated[Optional[Path], typer.Option(help="Write a TREC run file (one per retriever).", show_default=False)]
Plot = Annotated[
    Optional[Path], typer.Option(help="Plot recall@k over k for each configuration (PNG).", show_default=False)
]
Metric = Annotated[str, typer.Option(help="What to maximise: ndcg@10, recall@100, mrr@10, map, ….")]
K1Grid = Annotated[str, typer.Option("--k1", help="k1 values to try, comma-separated.")]
BGrid = Annotated[str, typer.Option("--b", help="b values to try, comma-separated.")]
Apply = Annotated[bool, typer.Option(help="Store the best k1 and b in the index.")]
JudgedDataset = Annotated[
    Path, typer.Argument(help="A qa.jsonl file with 'relevant', or a BEIR folder.", show_default=False)
]
