"""The tiny random Llama model builds offline and deterministically, and transformers loads and runs it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("tokenizers")

import torch
from jinja2.exceptions import TemplateError
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from nemo_skills.utils.tiny_model import MARKER_NAME, build_tiny_model, default_tiny_model_dir

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is 2 + 3?"},
    {"role": "assistant", "content": "The answer is 5."},
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def test_model_reloads_and_runs(model_dir: Path) -> None:
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    config = model.config
    assert (config.hidden_size, config.num_hidden_layers, config.num_attention_heads) == (128, 2, 4)
    assert config.hidden_size // config.num_attention_heads >= 32  # vLLM's CPU attention needs head size >= 32
    assert config.max_position_embeddings == 2048
    assert next(model.parameters()).dtype == torch.float32

    input_ids = torch.tensor([[1, 10, 20, 30]])
    with torch.no_grad():
        logits = model(input_ids).logits
    assert logits.shape == (1, 4, config.vocab_size)
    assert torch.isfinite(logits).all()


def test_tokenizer_round_trips_text(model_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    assert 1500 <= len(tokenizer) <= 2048
    assert (tokenizer.bos_token, tokenizer.eos_token, tokenizer.pad_token) == ("<s>", "</s>", "<pad>")

    text = "Alice has 12 apples; 12 * 7 = 84.\n  Déjà vu: ∑ x_i = \\frac{1}{2} 🙂"
    ids = tokenizer(text)["input_ids"]
    assert ids[0] == tokenizer.bos_token_id
    assert tokenizer.decode(ids, skip_special_tokens=True) == text
    assert len(tokenizer("What is 2 + 3? The answer is 5.")["input_ids"]) < 15  # merges were learnt


def test_chat_template_renders(model_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    rendered = tokenizer.apply_chat_template(MESSAGES[:2], tokenize=False, add_generation_prompt=True)
    assert rendered == (
        "<s><|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\nWhat is 2 + 3?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    full = tokenizer.apply_chat_template(MESSAGES, tokenize=False)
    assert full.endswith("<|im_start|>assistant\nThe answer is 5.<|im_end|>\n")

    ids = tokenizer(rendered, add_special_tokens=False)["input_ids"]
    assert tokenizer.convert_ids_to_tokens(ids[:2]) == ["<s>", "<|im_start|>"]


def test_chat_template_rejects_unknown_roles(model_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    with pytest.raises(TemplateError, match="Unsupported role"):
        tokenizer.apply_chat_template([{"role": "robot", "content": "hi"}], tokenize=False)


def test_same_seed_gives_identical_files(model_dir: Path, tmp_path: Path) -> None:
    again = build_tiny_model(tmp_path / "again")
    first, second = load_file(model_dir / "model.safetensors"), load_file(again / "model.safetensors")
    assert first.keys() == second.keys()
    assert all(torch.equal(first[name], second[name]) for name in first)
    assert (model_dir / "tokenizer.json").read_bytes() == (again / "tokenizer.json").read_bytes()


def test_build_is_idempotent(model_dir: Path) -> None:
    weights = model_dir / "model.safetensors"
    modified = weights.stat().st_mtime_ns
    start = time.monotonic()
    assert build_tiny_model(model_dir) == model_dir
    assert time.monotonic() - start < 1
    assert weights.stat().st_mtime_ns == modified
    assert (model_dir / MARKER_NAME).is_file()


def test_default_dir_follows_cache_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEMO_SKILLS_CACHE", str(tmp_path))
    assert default_tiny_model_dir() == tmp_path / "tiny-llama"
