"""A generator backed by a Hugging Face transformers model (imported only when generation runs).

Encoder-decoder models (T5, BART, …) load with AutoModelForSeq2SeqLM and decoder-only models with
AutoModelForCausalLM, chosen from the model's config (`is_encoder_decoder`), never from its name.
Causal models whose tokenizer has a chat template get the prompt as a user message.

Models resolve without surprises offline (ragcli.models.resolve_model): a local folder loads as is; a
hub id loads from the Hugging Face cache with `local_files_only` when it is there, and otherwise only
after a quick check that the Hub answers.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragcli.errors import ModelUnavailableError
from ragcli.generation.base import Generation, GenerationOptions, requested_model, settle
from ragcli.generation.prompt import CHAT, SEQ2SEQ, FittedPrompt, fit_prompt, template_for
from ragcli.models import (
    check_answer_room,
    check_generates_text,
    check_installed,
    check_model_folder,
    context_tokens,
    import_transformers,
    pick_device,
    resolve_model,
    usable_cpus,
)
from ragcli.records import Hit
from ragcli.terminal_text import first_line

if TYPE_CHECKING:
    from ragcli.retrieval.index import Index

FALLBACK_INPUT_TOKENS = 512


WORD_JOINER = "\u2060"  # invisible and joins nothing: what breaks a special token's text apart


def special_texts(tokenizer: Any) -> list[str]:
    """The texts a tokenizer reads as special tokens (its end-of-sequence, its chat template's turn
    markers such as "<|im_start|>"), longest first; one-character ones are left alone (a text's "<")."""
    texts = set(getattr(tokenizer, "all_special_tokens", []))
    texts |= {
        str(token)
        for token in getattr(tokenizer, "added_tokens_decoder", {}).values()
        if getattr(token, "special", False)
    }
    return sorted((text for text in texts if len(text) > 1), key=len, reverse=True)


def defused(text: str, specials: Sequence[str]) -> str:
    """`text` with each special token's text broken by a word joiner after its first character: a
    document (or a question from a pipe) writing "<|im_end|><|im_start|>user …" is read as those
    characters, never as a turn of the conversation the model takes for the chat's own."""
    for special in specials:
        if special in text:
            text = text.replace(special, special[0] + WORD_JOINER + special[1:])
    return text


class TransformersGenerator:
    """Answers with a seq2seq or causal language model from transformers."""

    name = "transformers"

    def __init__(self, model: str, options: GenerationOptions | None = None) -> None:
        self.options = options or GenerationOptions()
        self.model = model
        check_installed("generating answers", "generate")  # resolve_model asks huggingface_hub
        source, local_only = resolve_model(model)  # a model that cannot be had, or a folder that is no
        check_model_folder(model)  # whole model: said before torch and transformers are imported (~30 s)
        torch, transformers = import_transformers("generating answers", "generate")
        from safetensors import SafetensorError

        self._torch = torch
        try:
            config = transformers.AutoConfig.from_pretrained(source, local_files_only=local_only)
            check_generates_text(model, config.to_dict())  # a hub model's config is on disk only now
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=local_only)
            self._set_pad_token(config)
            self.is_encoder_decoder = bool(getattr(config, "is_encoder_decoder", False))
            auto = transformers.AutoModelForSeq2SeqLM if self.is_encoder_decoder else transformers.AutoModelForCausalLM
            # safetensors when the model has them (no pickle at all); else torch >= 2.6 loads weights_only
            safetensors = True if Path(source).is_dir() and any(Path(source).glob("*.safetensors")) else None
            self.network = auto.from_pretrained(source, local_files_only=local_only, use_safetensors=safetensors)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelUnavailableError(f"cannot load model {model}: {first_line(exc)}") from None
        except pickle.UnpicklingError:  # torch's weights_only load met more than tensors: never loaded otherwise
            raise ModelUnavailableError(
                f"cannot load model {model}: its .bin weights file holds objects other than tensors "
                "(refused: loading it could run code)",
                hint="use a copy of the model with .safetensors weights",
                value=model,
            ) from None
        except SafetensorError as exc:  # a truncated download or copy: neither an OSError nor a ValueError
            raise ModelUnavailableError(
                f"cannot load model {model}: its .safetensors weights file is damaged or incomplete ({first_line(exc)})",
                hint="download or save the model again",
                value=model,
            ) from None
        if self.options.threads:  # more threads than CPUs only contend for them (999 ran twice as long)
            torch.set_num_threads(min(self.options.threads, usable_cpus()))
        self.device = pick_device(self.options.device, torch)
        self.network.to(self.device)
        self.network.eval()
        if not self.is_encoder_decoder:
            self.tokenizer.padding_side = "left"  # decoder-only batches must end where generation starts
        self.uses_chat_template = not self.is_encoder_decoder and bool(getattr(self.tokenizer, "chat_template", None))
        kind = CHAT if self.uses_chat_template else SEQ2SEQ  # a causal model without one reads like a seq2seq
        self.template = self.options.prompt_template or template_for(kind, self.options.answer_style)
        self.max_input_tokens = self._input_limit(config)
        self._special_texts = special_texts(self.tokenizer)

    def _set_pad_token(self, config: Any) -> None:
        """Prompts are padded to a batch: a tokenizer without a pad token pads with its end-of-sequence
        token, else with the pad or end-of-sequence token the model's config names; with none of them
        the model cannot be used (said at load time, not as a crash at the first question)."""
        tokenizer = self.tokenizer
        if tokenizer.pad_token is not None:
            return
        if tokenizer.eos_token is not None:
            tokenizer.pad_token = tokenizer.eos_token
            return
        for value in (getattr(config, "pad_token_id", None), getattr(config, "eos_token_id", None)):
            for token_id in value if isinstance(value, list) else [value]:  # eos_token_id may be a list
                if isinstance(token_id, int) and 0 <= token_id < len(tokenizer):
                    tokenizer.pad_token = tokenizer.convert_ids_to_tokens(token_id)
                    return
        raise ModelUnavailableError(
            f"cannot use model {self.model}: its tokenizer has no pad or end-of-sequence token, "
            "nor does its config name one",
            hint="set pad_token or eos_token in its tokenizer_config.json",
            value=self.model,
        )

    def _input_limit(self, config: Any) -> int:
        """Tokens the prompt may use: the model's context, less the answer's room for causal models
        (`check_generator_model` checked it from disk before any work where it could)."""
        limit = context_tokens(
            getattr(self.tokenizer, "model_max_length", None),
            getattr(config, "max_position_embeddings", None),
            getattr(config, "n_positions", None),
        )
        context = FALLBACK_INPUT_TOKENS if limit is None else limit
        if self.is_encoder_decoder:
            return context
        return check_answer_room(self.model, context, self.options.max_new_tokens, ModelUnavailableError)

    # prompt -----------------------------------------------------------------------------------------
    def _count(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=not self.uses_chat_template)["input_ids"])

    def _truncate(self, text: str, tokens: int) -> str:
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"][:tokens]
        return str(self.tokenizer.decode(ids, skip_special_tokens=True))

    def _wrap(self, prompt: str) -> str:
        if not self.uses_chat_template:
            return prompt
        return str(
            self.tokenizer.apply_chat_template(  # no thinking: a short answer, within --max-new-tokens
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True, enable_thinking=False
            )
        )

    def prompt(self, question: str, sources: Sequence[Hit]) -> FittedPrompt:
        """The prompt for `question` and its `sources`, whose texts (the user's documents and question)
        cannot write the tokenizer's special tokens (`defused`)."""
        specials = self._special_texts
        return fit_prompt(
            self.template,
            defused(question, specials),
            [replace(hit, text=defused(hit.text, specials), title=defused(hit.title, specials)) for hit in sources],
            max_tokens=self.max_input_tokens,
            count_tokens=self._count,
            truncate=self._truncate,
            wrap=self._wrap,
        )

    # generation -------------------------------------------------------------------------------------
    def _generate_kwargs(self) -> dict[str, Any]:
        o = self.options
        kwargs: dict[str, Any] = {"max_new_tokens": o.max_new_tokens, "num_beams": o.num_beams}
        if o.temperature > 0:
            kwargs.update(do_sample=True, temperature=o.temperature, top_p=o.top_p)
            self._torch.manual_seed(o.seed)
        else:
            kwargs.update(do_sample=False)
        kwargs["pad_token_id"] = self.tokenizer.pad_token_id
        return kwargs

    def _encode(self, prompts: list[str]) -> Any:
        return self.tokenizer(
            prompts,
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=self.max_input_tokens,
            add_special_tokens=not self.uses_chat_template,
        ).to(self.device)

    def _decode(self, output: Any, inputs: Any) -> list[str]:
        if not self.is_encoder_decoder:
            output = output[:, inputs["input_ids"].shape[1] :]
        return [text.strip() for text in self.tokenizer.batch_decode(output, skip_special_tokens=True)]

    def generate(self, question: str, sources: Sequence[Hit]) -> Generation:
        return self.generate_many([(question, sources)])[0]

    def generate_many(self, requests: Sequence[tuple[str, Sequence[Hit]]]) -> list[Generation]:
        """Answers for many questions, in batches of `options.batch_size`."""
        results: list[Generation] = []
        size = max(1, self.options.batch_size)
        for start in range(0, len(requests), size):
            batch = requests[start : start + size]
            prompts = [self.prompt(question, sources) for question, sources in batch]
            inputs = self._encode([p.text for p in prompts])
            with self._torch.inference_mode():
                output = self.network.generate(**inputs, **self._generate_kwargs())
            for (question, sources), fitted, text in zip(batch, prompts, self._decode(output, inputs)):
                results.append(settle(text, question, sources, fitted.sources_used))
        return results

    def stream(self, question: str, sources: Sequence[Hit]) -> tuple[Iterator[str], Callable[[], Generation]]:
        """Text pieces as the model writes them, and a function returning the finished Generation."""
        from transformers import TextIteratorStreamer

        fitted = self.prompt(question, sources)
        inputs = self._encode([fitted.text])
        streamer: Any = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)  # untyped
        pieces: list[str] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                with self._torch.inference_mode():
                    self.network.generate(**inputs, **self._generate_kwargs(), streamer=streamer)
            except BaseException as exc:  # surfaced by finish()
                errors.append(exc)
                streamer.end()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()

        def pieces_iter() -> Iterator[str]:
            for piece in streamer:
                pieces.append(piece)
                yield piece

        def finish() -> Generation:
            thread.join()
            if errors:
                raise errors[0]
            return settle("".join(pieces), question, sources, fitted.sources_used)

        return pieces_iter(), finish


class TransformersFactory:
    """The `transformers` backend: --model (else $RAGCLI_MODEL, else flan-t5-base) loaded locally."""

    name = "transformers"

    def create(self, model: str | None, options: GenerationOptions, index: Index | None) -> TransformersGenerator:
        return TransformersGenerator(requested_model(model)[0], options)


FACTORY = TransformersFactory()
