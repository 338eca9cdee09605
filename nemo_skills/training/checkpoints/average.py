"""Parameter-wise (weighted) averaging of checkpoints: float32 accumulation, one checkpoint in memory at a time."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import torch

from nemo_skills.errors import ConfigError, InputError

LOG = logging.getLogger(__name__)


def check_weights(weights: Sequence[float] | None, count: int) -> list[float]:
    """Weights for `count` checkpoints (equal when None); they need not sum to 1 (the sum divides)."""
    if weights is None:
        return [1.0] * count
    if len(weights) != count:
        raise ConfigError(f"Got {len(weights)} averaging weights for {count} checkpoints.")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ConfigError(f"Averaging weights must be non-negative with a positive sum, got {list(weights)}.")
    return [float(w) for w in weights]


def average_state_dicts(
    state_dicts: Iterable[Mapping[str, torch.Tensor]],
    weights: Sequence[float] | None = None,
    names: Sequence[str] | None = None,
) -> dict[str, torch.Tensor]:
    """sum(w_i * x_i) / sum(w_i) per tensor, accumulated in float32 and cast back to the first checkpoint's dtype.

    `state_dicts` may be a generator: each is consumed before the next is asked for. Keys and shapes must match
    exactly (the error names the first difference and the checkpoint); integer tensors must be equal everywhere.
    """
    sums: dict[str, torch.Tensor] = {}
    reference: dict[str, tuple[torch.Size, torch.dtype]] = {}
    used: list[float] = []
    first_name = "checkpoint 0"
    for index, state_dict in enumerate(state_dicts):
        name = names[index] if names is not None and index < len(names) else f"checkpoint {index}"
        weight = 1.0 if weights is None else float(weights[index])
        if index == 0:
            first_name = name
            for key, tensor in state_dict.items():
                reference[key] = (tensor.shape, tensor.dtype)
                sums[key] = tensor.float() * weight if tensor.is_floating_point() else tensor.clone()
        else:
            _check_same_layout(state_dict, reference, name, first_name)
            for key, tensor in state_dict.items():
                if tensor.is_floating_point():
                    sums[key].add_(tensor.float(), alpha=weight)
                elif not torch.equal(tensor, sums[key]):
                    raise InputError(f"{key} is an integer tensor that differs between {first_name} and {name}.")
        used.append(weight)
    if not used:
        raise ConfigError("Nothing to average: no checkpoints given.")
    if weights is not None and len(weights) != len(used):
        raise ConfigError(f"Got {len(weights)} averaging weights for {len(used)} checkpoints.")
    total = sum(used)
    LOG.info("Averaged %d checkpoints with weights %s", len(used), used)
    return {
        key: (acc / total).to(reference[key][1]) if reference[key][1].is_floating_point else acc
        for key, acc in sums.items()
    }


def _check_same_layout(
    state_dict: Mapping[str, torch.Tensor], reference: dict[str, tuple[torch.Size, torch.dtype]], name: str, first: str
) -> None:
    missing = sorted(set(reference) - set(state_dict))
    if missing:
        raise InputError(f"{name} lacks {missing[0]!r}, which {first} has ({len(missing)} key(s) missing).")
    extra = sorted(set(state_dict) - set(reference))
    if extra:
        raise InputError(f"{name} has {extra[0]!r}, which {first} lacks ({len(extra)} extra key(s)).")
    for key in reference:
        shape = tuple(state_dict[key].shape)
        if shape != tuple(reference[key][0]):
            raise InputError(f"{key} has shape {shape} in {name} but {tuple(reference[key][0])} in {first}.")


def average_hf_checkpoints(
    inputs: Sequence[str | Path], output: str | Path, weights: Sequence[float] | None = None, overwrite: bool = False
) -> Path:
    """Average HF model folders into `output`; config, tokenizer and other files come from the first input."""
    from nemo_skills.training.checkpoints.convert import ConvertConfig, convert_checkpoint

    config = ConvertConfig(
        input=[str(p) for p in inputs],
        output=str(output),
        format="hf",
        average_weights=list(weights) if weights is not None else None,
        overwrite=overwrite,
    )
    return convert_checkpoint(config)
