"""Tiny transformers models with random weights and a tokenizer trained here, saved with
save_pretrained: the real loading code runs on them, and nothing is downloaded."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from conftest import SAMPLE_CORPUS

# a reasoning model's kind of template, as Qwen3's: `enable_thinking=False` writes an empty thought
# into the prompt, so the model answers at once (the tests see the difference in the prompt)
CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|> {{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> "
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}{% endif %}"
)


def _tokenizer(max_length: int, chat: bool = False):  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    texts = [p.read_text(errors="ignore") for p in sorted(SAMPLE_CORPUS.rglob("*")) if p.is_file()]
    texts.append("Answer the question using only the numbered passages below. Cite [1] [2] [3] Question: Answer:")
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<pad>", "</s>", "<unk>", "<|user|>", "<|assistant|>"]
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=600, special_tokens=specials, show_progress=False))
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=max_length
    )
    if chat:
        fast.chat_template = CHAT_TEMPLATE
    return fast


def _save_quietly(model, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """save_pretrained without its "Writing model shards" bar (the README's recipe runs these
    builders), then transformers' bars as they were: tests still see any bar ragcli lets through."""
    from transformers.utils import logging

    shown = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        model.save_pretrained(folder)
    finally:
        if shown:
            logging.enable_progress_bar()


def build_tiny_t5(folder: Path, max_length: int = 128) -> Path:
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(0)  # the same random weights in every run, whatever the tests before drew
    tokenizer = _tokenizer(max_length)
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    _save_quietly(T5ForConditionalGeneration(config), folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_tiny_gpt2(folder: Path, positions: int = 160, chat: bool = True) -> Path:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)  # the same random weights in every run, whatever the tests before drew
    tokenizer = _tokenizer(positions, chat=chat)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=positions,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    _save_quietly(GPT2LMHeadModel(config), folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_tiny_embedder(folder: Path) -> Path:
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    torch.manual_seed(0)  # the same random weights every run: rankings are reproducible

    # The vocabulary is built here rather than trained: tokenizers' WordPiece trainer breaks ties in its
    # own hash order, which changes from process to process, so the same seed gave different token ids
    # (and rankings) run after run. The 400 commonest words of the sample corpus, ties alphabetical, and
    # every character it holds, alone and as a "##" continuation, so any word still tokenizes.
    splitter = pre_tokenizers.BertPreTokenizer()
    texts = [p.read_text(errors="ignore") for p in sorted(SAMPLE_CORPUS.rglob("*")) if p.is_file()]
    words = Counter(w.lower() for text in texts for w, _ in splitter.pre_tokenize_str(text))
    common = [w for w, _ in sorted(words.items(), key=lambda item: (-item[1], item[0]))[:400]]
    characters = sorted({c for w in words for c in w})
    pieces = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", *characters, *(f"##{c}" for c in characters), *common]
    vocab = {piece: i for i, piece in enumerate(dict.fromkeys(pieces))}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = splitter
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]"
    )
    config = BertConfig(
        vocab_size=len(fast),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=300,
    )
    _save_quietly(BertModel(config), folder)
    fast.save_pretrained(folder)
    return folder


def build_tiny_byt5(folder: Path) -> Path:
    """A T5 whose ByT5 tokenizer reads bytes: save_pretrained writes no vocabulary file, only its config."""
    import torch
    from transformers import ByT5Tokenizer, T5Config, T5ForConditionalGeneration

    torch.manual_seed(0)
    tokenizer = ByT5Tokenizer()
    config = T5Config(
        vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=2,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    _save_quietly(T5ForConditionalGeneration(config), folder)
    tokenizer.save_pretrained(folder)
    return folder
