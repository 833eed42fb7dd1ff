"""Command-line options declared once and reused by every command that takes them (as sqlite-utils
does with its option groups), so `query` and `evaluate` cannot drift apart in names, defaults or help.

Help is click's plain layout (the app sets `rich_markup_mode=None`): at 80 columns Rich's six-column
panels cut long option names (`--embedding-mod…`) and squeezed help into a dozen-cell column. Help texts
are therefore printed as written: `[default: …]`, `ragcli[dense]` and `[1]` are never markup.
Options that a configuration file can set (ragcli.config.KEYS) say so in their command's epilog, and
leave their default to click to show (`show_default`), so that --help shows a file's value (click's
`default_map`) in its place; a default a command works out itself is a `ShownDefault`, whose text --help
shows. Options read from an environment variable declare it (`envvar`), so that click ranks it above
the configuration files and `--help` shows it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ragcli.config import ShownDefault
from ragcli.records import DENSE_WEIGHT_RANGE, MIN_RRF_K


def option(*names: str, help: str, **settings: Any) -> Any:
    """typer.Option, its help shown as written."""
    return typer.Option(*names, help=help, **settings)


def _finite(value: float | None) -> float | None:
    """Refuse nan and infinities, which click's float (and its ranges) admit: `--timeout inf` would reach
    the OS as an impossible deadline, `--min-score nan` would silently drop every passage."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a finite number.")
    return value


def number(*names: str, help: str, **settings: Any) -> Any:
    """typer.Option for a finite float (`min` / `max` bound it as click's FloatRange does)."""
    return typer.Option(*names, help=help, callback=_finite, **settings)


def given(ctx: typer.Context, name: str) -> bool:
    """Whether option `name` (its parameter) was given (on the command line or by its environment
    variable), not left at its default: a re-index keeps the index's recorded value of every option not
    given, and an option given where it does not apply is said."""
    source = ctx.get_parameter_source(name)  # click's ParameterSource (typer may bundle its own click)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def warn_unused_split(ctx: typer.Context, name: str, questions: Path | None, named_by: str = "DATA") -> None:
    """Warn when the split option `name` (its parameter) was given for questions that have no split:
    a qa.jsonl file, or none at all (`named_by`, the option naming them, not given). A split picks a
    BEIR folder's qrels; ignoring it silently would let a script believe it chose one."""
    if not given(ctx, name) or (questions is not None and not questions.is_file()):
        return  # a BEIR folder's; or what is not there, said by the command with its exit code
    from ragcli.render import note

    flag = "--" + name.replace("_", "-")
    if questions is None:
        note(f"ragcli: warning: {flag} is the split of {named_by}, which is not given (ignored)")
    else:
        note(f"ragcli: warning: {flag} is a BEIR folder's qrels split: {questions.name} has none (ignored)")


def argument(*, help: str, **settings: Any) -> Any:
    """typer.Argument, its help shown as written."""
    return typer.Argument(help=help, **settings)


def _index_folder(text: str) -> Path:
    """An --index as typed, refused when empty: `--index "$UNSET"` was the current folder, which an
    index then filled; -c '' and an empty $RAGCLI_INDEX are refused or unset too."""
    if not text:
        raise typer.BadParameter("empty path.")
    return Path(text)


IndexDir = Annotated[
    Optional[Path],
    option(
        "--index",
        "-i",
        parser=_index_folder,
        metavar="DIR",
        help="Index folder [default: -c's collection, else $RAGCLI_INDEX, else the config's collection, "
        "else ./.ragcli].",
        show_default=False,
    ),
]
Collection = Annotated[
    Optional[str],
    option(
        "--collection",
        "-c",
        metavar="NAME",
        help="Use the collection NAME: an index kept in ragcli's data folder ($RAGCLI_DATA_DIR); "
        "`ragcli collections` lists them.",
    ),
]
Name = Annotated[
    Optional[str],
    option(
        "--name",
        "--collection",
        "-c",
        metavar="NAME",
        help="Build or update the collection NAME in ragcli's data folder ($RAGCLI_DATA_DIR) instead of "
        "an --index folder; query it with -c NAME.",
    ),
]
CollectionName = Annotated[
    str, argument(metavar="NAME", help="The collection's name, as `ragcli collections` lists it.", show_default=False)
]
Json = Annotated[bool, option("--json", help="Print JSON on stdout instead of tables.")]
Strict = Annotated[
    bool, option(help="Stop at the first malformed record or line (exit 6) instead of skipping and listing it.")
]
SkipInvalid = Annotated[  # deprecated: skipping is the default now; still accepted so that scripts keep working
    bool,
    option("--skip-invalid", hidden=True, help="Deprecated (skipping malformed records is the default); see --strict."),
]
Wait = Annotated[bool, option(help="Wait for another build of the same index to finish.")]

# retrieval
Retriever = Annotated[
    str,
    option(
        "--retriever",
        "-r",
        help="bm25, tfidf, dense, hybrid (BM25 + dense, z-scored scores; also hybrid-zscore), "
        "hybrid-rrf (reciprocal rank fusion) or a plugin's retriever.",
    ),
]
Retrievers = Annotated[str, option("--retriever", "-r", help="Retrievers to compare, comma-separated: bm25,tfidf.")]
PathGlobs = Annotated[
    Optional[list[str]],
    option(
        "--path",
        metavar="GLOB",
        help="Only passages whose path matches GLOB ('docs/**/*.md'; without '/', the file name at any depth); "
        "repeatable: any may match.",
        show_default=False,
    ),
]
Where = Annotated[
    Optional[list[str]],
    option(
        "--where",
        metavar="KEY=VALUE",
        help="Only documents whose metadata satisfies KEY=VALUE (or !=, >=, <=, >, <; numbers and ISO dates "
        "compare as such); repeatable: all must hold. `ragcli info` lists the keys.",
        show_default=False,
    ),
]
# SearchOptions refuses what these do, for callers of the Python API: one limit each, in ragcli.records
RrfK = Annotated[int, option(min=MIN_RRF_K, help="hybrid-rrf: the k of reciprocal rank fusion.")]
DenseWeight = Annotated[
    float,
    number(
        min=DENSE_WEIGHT_RANGE[0], max=DENSE_WEIGHT_RANGE[1], help="hybrid, hybrid-zscore: the dense scores' weight."
    ),
]

# generation
Generator = Annotated[
    str,
    option(
        "--generator",
        "-g",
        help="auto (a configured server, else transformers, else extractive), openai, transformers, extractive "
        "or a plugin's generator.",
    ),
]
Model = Annotated[
    Optional[str],
    option(
        "--model",
        "-m",
        help="Hub id or local folder; with openai, the server's model name.",
        envvar="RAGCLI_MODEL",
        show_envvar=True,
    ),
]
DEFAULT_MODEL = ShownDefault("google/flan-t5-base (openai: the server's only model)")
TrainModel = Annotated[
    Optional[str],
    option(
        "--model",
        "-m",
        help="Hub id or local folder of the model to fine-tune.",
        envvar="RAGCLI_MODEL",
        show_envvar=True,
    ),
]
DEFAULT_TRAIN_MODEL = ShownDefault("google/flan-t5-base")
MaxNewTokens = Annotated[int, option(min=1, help="Longest answer, in tokens.")]
BatchSize = Annotated[int, option(min=1, help="Questions generated together.")]
Device = Annotated[str, option(help="auto, cpu, cuda or mps.")]
AnswerStyle = Annotated[
    str,
    option(help="short (the shortest phrase that answers, copied from the passages), sentence or long (a paragraph)."),
]

Fallback = Annotated[
    bool,
    option(
        "--fallback/--no-fallback",
        help='When the model gives no answer (nothing, only [1]-style markers, "I don\'t know"), answer with the '
        "extractive generator and say so.",
    ),
]

Distinct = Annotated[
    bool,
    option(
        "--distinct/--no-distinct",
        help="Each text once: a passage that another file holds too (a page's .md and .html, a print-all page) "
        "is folded into the best-ranked copy and the next passage takes its place; --json lists the copies.",
    ),
]

# OpenAI-compatible servers (--generator openai)
BaseUrl = Annotated[
    Optional[str],
    option(
        help="OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1; setting it makes -g auto use the server.",
        envvar="RAGCLI_BASE_URL",
        show_envvar=True,
    ),
]
DEFAULT_BASE_URL = ShownDefault("$OPENAI_BASE_URL, else OpenAI's API")
ApiKeyEnv = Annotated[
    Optional[str],
    option(
        metavar="NAME",
        help="The environment variable holding the API key (never the key itself).",
    ),
]
DEFAULT_API_KEY_ENV = ShownDefault("OPENAI_API_KEY (a local server needs none)")
JudgeModel = Annotated[
    Optional[str],
    option(
        help="Also grade each answer's faithfulness and relevance with this model on the OpenAI-compatible "
        "server (--base-url); off by default.",
        show_default=False,
    ),
]
Concurrency = Annotated[int, option(min=1, help="Requests to the server in flight at once (query -, evaluate).")]
Timeout = Annotated[float, number(min=0.1, max=86400.0, help="Seconds to wait for the server's answer to one request.")]
Retries = Annotated[
    int, option(min=0, max=10, help="Retries on 429, 5xx, timeouts and connection errors (exponential backoff).")
]
ContextTokens = Annotated[
    Optional[int],
    option(
        min=128,
        help="The model's context in tokens, when the server does not say it in /v1/models (approximated as "
        "characters / 4) [default: the server's, else 4096].",
        show_default=False,
    ),
]

# dense embedding
EmbeddingModel = Annotated[str, option(help="Sentence-embedding model: hub id or local folder.")]
EmbeddingPrecision = Annotated[
    str, option(help="int8 (ONNX Runtime, faster, same quality on SciFact), fp32 (PyTorch), or on a GPU fp16 or bf16.")
]
EmbeddingBatchSize = Annotated[int, option(min=1, help="Passages embedded together.")]
EvaluationEmbeddingDevice = Annotated[
    str,
    option(
        "--embedding-device",
        help="Where evaluate embeds the passages it adds dense vectors for: cpu or cuda (int8 runs as fp16 "
        "there). --device is the generator's.",
    ),
]

# ragcli index
Paths = Annotated[
    Optional[list[str]],  # strings, not Paths: a database URL (sqlite:///notes.db) must keep its `//`
    argument(
        metavar="[PATH]...",  # written whole: typer drops click's "..." of a repeatable argument given a metavar
        help="Files and folders to index (folders are walked), or database URLs read with --sql "
        "[default: the roots the index was built from].",
        show_default=False,
    ),
]
Sql = Annotated[
    Optional[str],
    option(
        "--sql",
        help="The query whose rows to index from each database URL (a row is a document; its columns are "
        "chosen like record fields) [default: the query the index was built with].",
        show_default=False,
    ),
]
Rebuild = Annotated[bool, option(help="Read every file again instead of reusing unchanged ones.")]
AddRoot = Annotated[
    Optional[list[str]],
    option(
        "--add",
        metavar="PATH",
        help="Add PATH (a file, folder or database URL) to the index's roots and index it; repeatable.",
        show_default=False,
    ),
]
RemoveRoot = Annotated[
    Optional[list[str]],
    option(
        "--remove",
        metavar="PATH",
        help="Remove PATH from the index's roots, and its passages from the index; repeatable.",
        show_default=False,
    ),
]
ReplaceRoots = Annotated[
    bool,
    option(
        help="Index only the PATHS given, dropping the index's other roots (without it, other PATHS are refused); "
        "the recorded settings, globs included, are kept."
    ),
]
Jobs = Annotated[
    Optional[int],
    option(
        min=1, help="Tokenising processes, at most the CPU count [default: CPU count, at most 4].", show_default=False
    ),
]
Ray = Annotated[
    Optional[str],
    option(
        "--ray",
        metavar="ADDRESS",
        help="Count and embed on a Ray cluster (needs ragcli[ray]): auto starts or joins this machine's Ray, "
        "host:port joins a cluster; the index is the same as a local build's.",
        show_default=False,
    ),
]
EmbeddingDevice = Annotated[
    str,
    option(
        "--device",
        help="Where passages are embedded: cpu or cuda (fp16 unless --embedding-precision says bf16 or fp32; "
        "length-sorted batches sized to the GPU).",
    ),
]
Dense = Annotated[
    Optional[bool],
    option(
        "--dense/--no-dense",
        help="Embed passages for dense and hybrid retrieval (needs ragcli[dense]) [default: keep what the index has].",
        show_default=False,
    ),
]
ChunkSize = Annotated[int, option(help="Passage size in words; 0 keeps documents whole.")]
ChunkOverlap = Annotated[
    int,
    option(help="Words shared by consecutive passages (not given: 40, or a fifth of a chunk size of 40 or less)."),
]
Language = Annotated[
    str,
    option(
        "--language",
        "-l",
        help="Analyzer language: en, es, fr, de, pt, it, nl, da, no, sv, ru, tr (a locale such as pt-BR is its language).",
    ),
]
Stopwords = Annotated[bool, option(help="Drop the language's stopwords.")]
Stem = Annotated[bool, option(help="Stem words (Snowball / Porter).")]
BM25Variant = Annotated[str, option(help="lucene, robertson, atire, okapi, bm25l or bm25+.")]
K1 = Annotated[Optional[float], number(help="BM25 k1 [default: 1.0; okapi/bm25l/bm25+: 1.5].", show_default=False)]
B = Annotated[Optional[float], number(help="BM25 b [default: 0.6; okapi/bm25l/bm25+: 0.75].", show_default=False)]
Delta = Annotated[Optional[float], number(help="BM25L/BM25+ delta [default: 0.5 / 1.0].", show_default=False)]


def _field_name(value: str | None) -> str | None:
    """Refuse a blank field name: no record has it, so `--text-field ''` skipped every record as having
    "no text field" and `--id-field ''` named every record by its line, and the name stuck as a setting."""
    if value is not None and not value.strip():
        raise typer.BadParameter("a field name cannot be empty; leave the option out for the usual names.")
    return value


IdField = Annotated[
    Optional[str],
    option(
        help="Record field holding the id [default: _id, id, docid, doc_id].", show_default=False, callback=_field_name
    ),
]
TextField = Annotated[
    Optional[str],
    option(
        help="Record field holding the text [default: text, contents, content, body, passage].",
        show_default=False,
        callback=_field_name,
    ),
]
TitleField = Annotated[
    Optional[str],
    option(help="Record field holding the title [default: title].", show_default=False, callback=_field_name),
]


MAX_SIZE = 1 << 50  # 1024T: more than any file, less than a read's size can hold


def parse_size(value: str | int) -> int:
    """A size as people write it: 256M, 1.5G, 64K or a number of bytes (K, M, G are powers of 1024)."""
    if isinstance(value, int):
        return value
    text = value.strip().upper().removesuffix("B").removesuffix("I")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(text[-1:], 1)
    try:
        size = int(float(text[:-1] if scale > 1 else text) * scale)
    except (ValueError, OverflowError):  # "x", "nan"; "inf"
        raise typer.BadParameter(f"{value!r} is not a size (e.g. 256M, 1G, 65536)") from None
    if size < 1:
        raise typer.BadParameter(f"{value!r}: the size must be at least 1 byte")
    if size > MAX_SIZE:  # 2**63 bytes overflowed a read's size
        raise typer.BadParameter(f"{value!r}: the size must be at most 1024T")
    return size


MaxExpandedSize = Annotated[
    int,
    option(
        parser=parse_size,
        metavar="SIZE",
        show_default=False,
        help="The most one file read whole (after decompression), or one line of a JSON Lines file, may hold; "
        "larger ones are skipped with the reason, uncompressed text streamed instead (256M, 1G, …) "
        "[default: 256M].",
    ),
]
Include = Annotated[
    Optional[list[str]],
    option(
        metavar="GLOB",
        help="Read only the files matching GLOB (gitignore syntax, relative to the root: '*.md', 'docs/**'); "
        "repeatable [default: as the index recorded, else every file].",
        show_default=False,
    ),
]
Exclude = Annotated[
    Optional[list[str]],
    option(
        metavar="GLOB",
        help="Leave out the files and folders matching GLOB (gitignore syntax, relative to the root); "
        "repeatable [default: as the index recorded, else none].",
        show_default=False,
    ),
]
Ignore = Annotated[
    Optional[bool],
    option(
        "--ignore/--no-ignore",
        help="Honour .gitignore and .ignore files in the folders walked [default: as the index recorded, else on].",
        show_default=False,
    ),
]
Generated = Annotated[
    Optional[bool],
    option(
        "--generated/--no-generated",
        help="Read files a program wrote too: lock files, minified JavaScript and CSS, source maps, code marked "
        "'generated … DO NOT EDIT' [default: as the index recorded, else off: they are skipped and listed].",
        show_default=False,
    ),
]
Quiet = Annotated[bool, option("--quiet", "-q", help="No progress bar, no summary.")]
Verbose = Annotated[bool, option("--verbose", "-v", help="List every skipped file with its reason.")]

# ragcli query
Question = Annotated[
    str,
    argument(
        metavar="QUESTION",
        help="The question; '-' reads one question per line from stdin (JSON Lines out).",
        show_default=False,
    ),
]
QueryTopK = Annotated[int, option("--top-k", "-k", min=1, help="How many passages to retrieve.")]
Generate = Annotated[
    bool, option("--generate/--no-generate", help="Write an answer from the passages, or only retrieve them.")
]
Sources = Annotated[
    str,
    option(
        "--sources",
        metavar="VIEW",
        help="Which sources to show: auto (full when it fits the terminal, else compact), full (the table), "
        "cited (only the cited passages), compact (one line per cited source) or none.",
    ),
]
Plain = Annotated[
    bool,
    option(
        "--plain",
        help="grep-style lines for editors, path:line:col: snippet (as ripgrep --vimgrep); no colour, no table; "
        "an answer comes first, on one line. With -, each question's lines in turn, in place of JSON Lines.",
    ),
]
MinScore = Annotated[
    Optional[float],
    number(
        "--min-score", metavar="X", help="Drop passages scoring below X (the scores --json shows).", show_default=False
    ),
]
PromptTemplate = Annotated[
    Optional[Path], option(help="A prompt template file with {passages} and {question}.", show_default=False)
]
NumBeams = Annotated[int, option(min=1, help="Beam search width (1: greedy).")]
Temperature = Annotated[float, number(min=0.0, help="Sampling temperature; 0 decodes greedily (deterministic).")]
TopP = Annotated[float, number(min=0.0, max=1.0, help="Nucleus sampling mass (with --temperature > 0).")]
Seed = Annotated[int, option(help="Random seed for sampling.")]
Threads = Annotated[
    Optional[int],
    option(min=1, help="CPU threads for a transformers model [default: torch's choice].", show_default=False),
]

# ragcli info
Verify = Annotated[bool, option(help="Re-hash every payload against the manifest's checksums.")]

# ragcli evaluate and ragcli tune
Dataset = Annotated[
    Path,
    argument(
        metavar="DATA",
        help="A qa.jsonl file, or a BEIR folder (corpus.jsonl, queries.jsonl, qrels/).",
        show_default=False,
    ),
]
Split = Annotated[str, option(help="BEIR qrels split (qrels/<split>.tsv).")]
Cutoffs = Annotated[str, option("--k", help="Cut-offs for the @k metrics, comma-separated.")]
Depth = Annotated[
    Optional[int],
    option(
        min=1,
        help="Documents ranked per query (for MAP and the run file), at least the largest --k "
        "[default: 1000, or the largest --k when deeper]",
        show_default=False,
    ),
]
EvaluateGenerate = Annotated[
    bool,
    option("--generate/--no-generate", help="Also answer the questions with gold answers and score the answers."),
]
Context = Annotated[
    bool,
    option("--context/--no-context", help="--no-context adds a closed-book column: the generator without passages."),
]
GeneratorTopK = Annotated[int, option("--top-k", min=1, help="Passages given to the generator.")]
PerQuery = Annotated[
    Optional[Path], option(help="Write each query's hits, metrics and answer as JSON Lines.", show_default=False)
]
FollowUps = Annotated[
    bool,
    option(
        help="A question that refers back ('How do beekeepers control them?') is searched together with the "
        "questions of its topic so far.",
    ),
]
RunFile = Annotated[Optional[Path], option(help="Write a TREC run file (one per retriever).", show_default=False)]
WithRun = Annotated[
    Optional[list[Path]],
    option(
        "--with-run",
        metavar="FILE",
        help="Also evaluate another system's rankings: a TREC run file (query-id Q0 doc-id rank score tag), "
        "such as an earlier --run-file; repeatable.",
        show_default=False,
    ),
]
Plot = Annotated[Optional[Path], option(help="Plot recall@k over k for each configuration (PNG).", show_default=False)]
Metric = Annotated[str, option(help="What to maximise: ndcg@10, recall@100, mrr@10, map, ….")]
K1Grid = Annotated[str, option("--k1", help="k1 values to try, comma-separated.")]
BGrid = Annotated[str, option("--b", help="b values to try, comma-separated.")]
Apply = Annotated[bool, option(help="Store the best k1 and b in the index.")]
JudgedDataset = Annotated[
    Path, argument(metavar="DATA", help="A qa.jsonl file with 'relevant', or a BEIR folder.", show_default=False)
]

# ragcli train generator (and evaluate --compare)
TrainData = Annotated[
    Path,
    argument(
        metavar="DATA",
        help="A qa.jsonl file: question and answers on each line (the first answer is learnt).",
        show_default=False,
    ),
]
TrainOutput = Annotated[
    Path,
    option(
        "--output",
        "-o",
        help="The folder for the trained model and its checkpoints: new, empty, or an earlier training's.",
        show_default=False,
    ),
]
Epochs = Annotated[int, option(min=1, help="Passes over the training questions.")]
TrainBatchSize = Annotated[int, option("--batch-size", min=1, help="Examples per training step.")]
LearningRate = Annotated[
    Optional[float],
    number("--lr", help="AdamW learning rate [default: 3e-4; with --lora 1e-3].", show_default=False),
]
TrainSeed = Annotated[int, option(help="Random seed (initialisation, shuffling): same seed, same model on the CPU.")]
WithContext = Annotated[
    bool,
    option(
        "--with-context/--closed-book",
        help="Put each question's retrieved passages in the prompt, as `ragcli query` does (RAG fine-tuning; "
        "needs an index), or train on questions alone.",
    ),
]
Lora = Annotated[bool, option(help="Train LoRA adapters (peft) instead of every weight; merged into the saved model.")]
LoraRank = Annotated[int, option(min=1, help="The LoRA adapters' rank.")]
Resume = Annotated[bool, option(help="Continue from the output folder's last checkpoint.")]
TrainMaxNewTokens = Annotated[
    int, option("--max-new-tokens", min=1, help="Longest answer learnt, in tokens (prompts leave this room).")
]
Compare = Annotated[
    bool,
    option(
        help="One table: the --model and the --tuned-model, each closed-book and with the retrieved passages "
        "(EM, F1, match, citation precision, seconds per answer)."
    ),
]
TunedModel = Annotated[
    Optional[str],
    option(help="With --compare: the fine-tuned model (a `ragcli train generator` output folder).", show_default=False),
]

# ragcli train retriever
RetrieverTrainingData = Annotated[
    Path,
    argument(
        metavar="DATA",
        help="A qa.jsonl file with 'relevant' (passages from --index) or a BEIR folder (its --split).",
        show_default=False,
    ),
]
RetrieverOutput = Annotated[
    Path, option("--output", "-o", help="Folder to write the trained model to (new, empty or an earlier output).")
]
RetrieverEpochs = Annotated[int, option(min=1, help="Passes over the training pairs.")]
RetrieverBatchSize = Annotated[
    int, option(min=2, help="Questions per step; each is scored against every passage of the batch.")
]
RetrieverLearningRate = Annotated[
    float, number("--lr", min=0.0, help="AdamW learning rate (linear warm-up, then decay).")
]
RetrieverSeed = Annotated[
    int, option(help="Random seed: data order, validation slice, dropout (same seed, same weights on a CPU).")
]
MaxSeqLength = Annotated[int, option(min=8, help="Tokens kept of each question and passage while training.")]
HardNegatives = Annotated[
    int, option(min=0, help="BM25-mined negatives per question (top hits of documents not judged relevant).")
]
Validation = Annotated[
    float,
    number(
        min=0.0, max=0.9, help="Fraction of the training questions held out to pick the best epoch (0: keep the last)."
    ),
]
EvalQueries = Annotated[
    Optional[Path],
    option(help="Evaluation questions (qa.jsonl or BEIR folder) that training must not overlap.", show_default=False),
]
EvalSplit = Annotated[str, option(help="The BEIR split of --eval-queries.")]
DropOverlap = Annotated[
    bool, option(help="Leave out training questions that evaluation also asks (by id or text) instead of refusing.")
]
