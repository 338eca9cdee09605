"""Hugging Face model folders: read their weights, check a state dict against a config, write safetensors."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from nemo_skills.errors import ConfigError, InputError

if TYPE_CHECKING:
    from transformers import PretrainedConfig

LOG = logging.getLogger(__name__)
SHARD_BYTES = 5 * 1024**3
WEIGHTS_NAME = "model.safetensors"
INDEX_NAME = "model.safetensors.index.json"
DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".index.json", ".distcp")


def load_hf_state_dict(folder: str | Path) -> dict[str, torch.Tensor]:
    """Every tensor of an HF model folder (safetensors, sharded or not; `pytorch_model*.bin` as a fallback)."""
    from safetensors.torch import load_file

    root = Path(folder)
    for index_name, loader in ((INDEX_NAME, load_file), ("pytorch_model.bin.index.json", _load_bin)):
        if (root / index_name).is_file():
            weight_map = json.loads((root / index_name).read_text())["weight_map"]
            tensors: dict[str, torch.Tensor] = {}
            for name in sorted(set(weight_map.values())):
                tensors.update(loader(str(root / name)))
            return tensors
    if (root / WEIGHTS_NAME).is_file():
        return load_file(str(root / WEIGHTS_NAME))
    if (root / "pytorch_model.bin").is_file():
        return _load_bin(str(root / "pytorch_model.bin"))
    raise InputError(f"{root} has no model weights ({WEIGHTS_NAME}, {INDEX_NAME} or pytorch_model.bin).")


def _load_bin(path: str) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)


def load_config(source: str) -> PretrainedConfig:
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(source)
    except (OSError, ValueError) as error:
        raise InputError(f"Could not read a model config from {source!r}: {error}") from error


@dataclass(frozen=True)
class ModelSpec:
    """What a config's model expects: every state-dict key's shape, and the keys that share another's weight."""

    shapes: dict[str, torch.Size]
    tied: dict[str, str]  # duplicate key -> the key it shares its parameter with


def model_spec(config: PretrainedConfig) -> ModelSpec | None:
    """Build the model on the meta device (no memory) to learn its keys; None if transformers cannot build it.

    The class is the config's own architecture (what the trainer built), else AutoModelForCausalLM's choice.
    """
    import transformers

    architectures = getattr(config, "architectures", None) or [None]
    model_class = getattr(transformers, architectures[0], None) if architectures[0] else None
    try:
        with torch.device("meta"):
            if model_class is not None:
                model = model_class(config)
            else:
                model = transformers.AutoModelForCausalLM.from_config(config)
    except Exception as error:  # an architecture this transformers does not know: convert without the check
        LOG.warning("Cannot build %s to check the weights against it: %s", type(config).__name__, error)
        return None
    shapes = {key: value.shape for key, value in model.state_dict().items()}
    first_name: dict[int, str] = {}
    tied: dict[str, str] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        tied_to = first_name.setdefault(id(param), name)
        if tied_to != name:
            tied[name] = tied_to
    return ModelSpec(shapes, tied)


def check_against_spec(state_dict: dict[str, torch.Tensor], spec: ModelSpec, source: str) -> dict[str, torch.Tensor]:
    """Fail with the first differing key if the weights do not fit the config; drop tied duplicates."""
    checked = dict(state_dict)
    for duplicate, kept in spec.tied.items():
        if duplicate in checked and kept in checked and torch.equal(checked[duplicate], checked[kept]):
            del checked[duplicate]
    expected = set(spec.shapes) - set(spec.tied)
    missing = sorted(expected - set(checked))
    extra = sorted(set(checked) - set(spec.shapes))
    hint = "the base model must be the one the run started from"
    if missing:
        raise InputError(f"{source} lacks {len(missing)} weight(s) the config expects, first {missing[0]!r} ({hint}).")
    if extra:
        raise InputError(f"{source} has {len(extra)} weight(s) the config does not know, first {extra[0]!r} ({hint}).")
    for key, tensor in checked.items():
        shape, expected_shape = tuple(tensor.shape), tuple(spec.shapes[key])
        if shape != expected_shape:
            raise InputError(f"{source}: {key} has shape {shape}, the config expects {expected_shape} ({hint}).")
    return checked


def output_dtype(name: str, config: PretrainedConfig | None) -> torch.dtype | None:
    """`auto`: the base model's dtype (None: keep the saved dtypes); or an explicit bfloat16/float16/float32."""
    if name in DTYPES:
        return DTYPES[name]
    if name != "auto":
        raise ConfigError(f"Unknown dtype {name!r}; choose auto, {', '.join(DTYPES)}.")
    value = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
    if isinstance(value, str):
        value = DTYPES.get(value)
    return value if isinstance(value, torch.dtype) and value in DTYPES.values() else None


def cast_floats(state_dict: dict[str, torch.Tensor], dtype: torch.dtype | None) -> dict[str, torch.Tensor]:
    if dtype is None:
        return state_dict
    return {k: v.to(dtype) if v.is_floating_point() else v for k, v in state_dict.items()}


def write_safetensors(state_dict: Mapping[str, torch.Tensor], folder: Path, shard_bytes: int = SHARD_BYTES) -> None:
    """`model.safetensors`, or `model-0000i-of-0000n.safetensors` shards with an index past `shard_bytes`."""
    from safetensors.torch import save_file

    shards: list[dict[str, torch.Tensor]] = [{}]
    size = 0
    for key, tensor in state_dict.items():
        nbytes = tensor.numel() * tensor.element_size()
        if shards[-1] and size + nbytes > shard_bytes:
            shards.append({})
            size = 0
        shards[-1][key] = tensor.contiguous()
        size += nbytes
    if len(shards) == 1:
        save_file(shards[0], str(folder / WEIGHTS_NAME), metadata={"format": "pt"})
        return
    weight_map: dict[str, str] = {}
    for number, shard in enumerate(shards, start=1):
        name = f"model-{number:05d}-of-{len(shards):05d}.safetensors"
        save_file(shard, str(folder / name), metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(shard, name))
    total = sum(t.numel() * t.element_size() for t in state_dict.values())
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / INDEX_NAME).write_text(json.dumps(index, indent=2) + "\n")


def save_config(config: PretrainedConfig, folder: Path, dtype: torch.dtype | None) -> None:
    if dtype is not None:
        name = str(dtype).removeprefix("torch.")
        setattr(config, "dtype" if hasattr(config, "dtype") else "torch_dtype", name)
    config.save_pretrained(str(folder))


def copy_generation_config(source: str, folder: Path) -> None:
    local = Path(source) / "generation_config.json"
    if local.is_file():
        shutil.copy2(local, folder / local.name)
        return
    if Path(source).is_dir():
        return
    from transformers import GenerationConfig

    try:
        GenerationConfig.from_pretrained(source).save_pretrained(str(folder))
    except (OSError, ValueError):
        LOG.info("%s has no generation config", source)


def copy_tokenizer(source: str, folder: Path) -> None:
    """A local tokenizer folder is copied file by file (faithfully); a hub name goes through AutoTokenizer."""
    local = Path(source)
    if local.is_dir():
        for path in sorted(local.iterdir()):
            if path.is_file() and not _is_model_file(path):
                shutil.copy2(path, folder / path.name)
        return
    from transformers import AutoTokenizer

    try:
        AutoTokenizer.from_pretrained(source).save_pretrained(str(folder))
    except (OSError, ValueError) as error:
        raise InputError(f"Could not load a tokenizer from {source!r}: {error}") from error


def copy_model_files(source: Path, folder: Path) -> None:
    """Everything of an HF model folder except its weights (config, tokenizer, generation config, code)."""
    for path in sorted(source.iterdir()):
        if path.is_file() and not path.name.startswith(".") and not path.name.endswith(_WEIGHT_SUFFIXES):
            shutil.copy2(path, folder / path.name)


def _is_model_file(path: Path) -> bool:
    return (
        path.name.startswith(".")
        or path.name in ("config.json", "generation_config.json")
        or path.name.endswith(_WEIGHT_SUFFIXES)
    )
