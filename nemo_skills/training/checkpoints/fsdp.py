"""Merge veRL's per-rank FSDP checkpoint files (`model_world_size_<W>_rank_<R>.pt`) into full tensors.

Each file is one rank's `model.state_dict()` under FSDP's sharded state-dict type (FSDP1 with a device mesh, or
FSDP2): every parameter is a DTensor whose placements say how it was split over the device mesh. The merge follows
those placements exactly (concatenate along `Shard(d)` in mesh order, take one copy of `Replicate()`); it never
assumes a dimension.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Mapping
from pathlib import Path

import torch
from torch.distributed.tensor import DTensor, Replicate, Shard

from nemo_skills.errors import InputError
from nemo_skills.training.checkpoints.layout import VERL_RANK_FILE


def rank_files(actor_dir: str | Path) -> list[Path]:
    """The model files of every rank, in rank order; fails if ranks are missing or world sizes disagree."""
    folder = Path(actor_dir)
    found: dict[int, dict[int, Path]] = {}
    for path in folder.glob("model_world_size_*_rank_*.pt"):
        if match := VERL_RANK_FILE.fullmatch(path.name):
            found.setdefault(int(match.group(1)), {})[int(match.group(2))] = path
    if not found:
        raise InputError(f"{folder} has no model_world_size_<W>_rank_<R>.pt files.")
    if len(found) > 1:
        raise InputError(f"{folder} mixes world sizes {sorted(found)}; keep the files of one save only.")
    ((world_size, files),) = found.items()
    missing = [rank for rank in range(world_size) if rank not in files]
    if missing:
        raise InputError(f"{folder}: rank file(s) {missing} of world size {world_size} are missing.")
    return [files[rank] for rank in range(world_size)]


def _load_rank(path: Path) -> dict[str, object]:
    mesh_log = logging.getLogger("torch.distributed.device_mesh")
    level = mesh_log.level
    mesh_log.setLevel(logging.ERROR)  # "unpickling of the DeviceMesh occurred before the PGs were created": fine here
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as error:
        text = str(error)
        if "ShardedTensor" in text:
            reason = "it holds ShardedTensors (FSDP1 without a device mesh); only DTensor shards can be merged"
        else:
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            reason = next((line for line in lines if "Unsupported global" in line), lines[0] if lines else "")
        raise InputError(f"Could not read {path}: {reason}.") from error
    finally:
        mesh_log.setLevel(level)


def _check_placements(key: str, placements: tuple) -> None:
    for placement in placements:
        if type(placement) not in (Shard, Replicate):  # Partial sums and strided shards (FSDP+TP) are not handled
            raise InputError(f"{key}: cannot merge placement {placement!r}; only Shard(d) and Replicate() are.")


def merge_dtensor_shards(key: str, pieces: list[DTensor]) -> torch.Tensor:
    """Rebuild the full tensor from every rank's DTensor (indexed by global rank)."""
    first = pieces[0]
    placements = tuple(first.placements)
    _check_placements(key, placements)
    mesh = first.device_mesh.mesh
    by_coord: dict[tuple[int, ...], torch.Tensor] = {}
    for coord in itertools.product(*(range(n) for n in mesh.shape)):
        rank = int(mesh[coord])
        if rank >= len(pieces):
            raise InputError(f"{key}: the device mesh names rank {rank}, but only {len(pieces)} rank files exist.")
        piece = pieces[rank]
        if tuple(piece.placements) != placements or tuple(piece.shape) != tuple(first.shape):
            raise InputError(f"{key}: rank {rank} saved a different sharding than rank {int(mesh.flatten()[0])}.")
        by_coord[coord] = piece.to_local()
    for dim in reversed(range(mesh.ndim)):  # the last mesh dimension split last: undo it first
        groups: dict[tuple[int, ...], list[torch.Tensor]] = {}
        for coord in sorted(by_coord):
            groups.setdefault(coord[:dim], []).append(by_coord[coord])
        placement = placements[dim]
        if isinstance(placement, Shard):
            by_coord = {prefix: torch.cat(parts, dim=placement.dim) for prefix, parts in groups.items()}
        else:
            by_coord = {prefix: parts[0] for prefix, parts in groups.items()}
    full = by_coord[()]
    if tuple(full.shape) != tuple(first.shape):
        raise InputError(
            f"{key}: merged shape {tuple(full.shape)} is not the saved global shape {tuple(first.shape)}."
        )
    return full.contiguous()


def _merge_plain(key: str, pieces: list[torch.Tensor], expected: torch.Size | None) -> torch.Tensor:
    """A plain tensor carries no placement: only the model's expected shape can say whether it was split."""
    if len(pieces) == 1 or (expected is not None and tuple(pieces[0].shape) == tuple(expected)):
        return pieces[0].clone()
    if expected is not None:
        joined = torch.cat(pieces, dim=0)
        if tuple(joined.shape) == tuple(expected):
            return joined
    raise InputError(
        f"{key} is a plain tensor of shape {tuple(pieces[0].shape)} on each of {len(pieces)} ranks, and the model "
        "config does not say how it was split; give --base_model (or keep actor/huggingface/config.json)."
    )


def load_fsdp_state_dict(
    actor_dir: str | Path, expected_shapes: Mapping[str, torch.Size] | None = None
) -> dict[str, torch.Tensor]:
    """Full model tensors from a veRL actor folder, in the dtypes they were saved in."""
    files = rank_files(actor_dir)
    shards = [_load_rank(path) for path in files]
    keys = list(shards[0])
    for rank, shard in enumerate(shards[1:], start=1):
        if set(shard) != set(keys):
            odd = sorted(set(shard) ^ set(keys))[0]
            raise InputError(f"Rank {rank} and rank 0 saved different keys (first difference: {odd}).")
    merged: dict[str, torch.Tensor] = {}
    for key in keys:
        pieces = [shard.pop(key) for shard in shards]
        if any(not isinstance(piece, torch.Tensor) for piece in pieces):
            raise InputError(f"{key} in {files[0].parent} is not a tensor.")
        if all(isinstance(piece, DTensor) for piece in pieces):
            merged[key] = merge_dtensor_shards(key, pieces)
        elif any(isinstance(piece, DTensor) for piece in pieces):
            raise InputError(f"{key} is a DTensor on some ranks and a plain tensor on others.")
        else:
            merged[key] = _merge_plain(key, pieces, (expected_shapes or {}).get(key))
    return strip_wrapper_prefixes(merged)


def strip_wrapper_prefixes(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop FSDP1 / torch.compile wrapper names that can leak into keys (`_fsdp_wrapped_module.`, `_orig_mod.`)."""
    pattern = re.compile(r"(^|\.)(_fsdp_wrapped_module|_orig_mod|_checkpoint_wrapped_module)\.")
    return {pattern.sub(r"\1", key): value for key, value in state_dict.items()}
