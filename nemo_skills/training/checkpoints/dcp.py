"""Read the model weights of a torch.distributed.checkpoint (DCP) folder in one process, no process group.

NeMo-RL saves `dcp.save({"model": ModelState(model)}, checkpoint_id=.../policy/weights)`, so DCP's flattened
keys are `model.<Hugging Face key>` and the checkpoint's planner data maps each back to `("model", <key>)`.
Checkpoints saved with DCP's Hugging Face storage writer (safetensors shards) hold the plain keys.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Collection, Mapping
from pathlib import Path

import torch
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.metadata import Metadata, TensorStorageMetadata

from nemo_skills.errors import InputError

LOG = logging.getLogger(__name__)
MODEL_KEY = "model"  # the top-level key NeMo-RL wraps the model state dict in


def _storage_reader(path: Path) -> dcp.StorageReader:
    if (path / ".metadata").is_file():
        return dcp.FileSystemReader(str(path))
    for folder in (path, path / "model"):
        if any(folder.glob("*.safetensors")):
            return dcp.HuggingFaceStorageReader(str(folder))
    if any(path.glob("iter_*")):
        raise InputError(
            f"{path} is a Megatron-backend checkpoint (iter_*); convert it with NeMo-RL's convert_megatron_to_hf."
        )
    raise InputError(f"{path} is not a torch.distributed.checkpoint folder (no .metadata, no safetensors shards).")


def model_key_names(metadata: Metadata, expected_keys: Collection[str] | None = None) -> dict[str, str]:
    """Map the checkpoint's flattened tensor keys to model state-dict keys; keys outside the model are left out."""
    tensors = [fqn for fqn, item in metadata.state_dict_metadata.items() if isinstance(item, TensorStorageMetadata)]
    paths = metadata.planner_data if isinstance(metadata.planner_data, Mapping) else {}
    nested = {fqn: paths[fqn] for fqn in tensors if isinstance(paths.get(fqn), tuple)}
    wrapped = {fqn: path[1] for fqn, path in nested.items() if len(path) == 2 and path[0] == MODEL_KEY}
    if wrapped:
        if len(wrapped) < len(tensors):
            LOG.info("Ignoring %d tensors outside the %r state dict", len(tensors) - len(wrapped), MODEL_KEY)
        return wrapped
    names = {fqn: fqn for fqn in tensors}
    prefix = MODEL_KEY + "."
    if expected_keys is not None and all(fqn.startswith(prefix) for fqn in tensors):
        stripped = {fqn: fqn[len(prefix) :] for fqn in tensors}
        expected = set(expected_keys)
        if len(expected & set(stripped.values())) > len(expected & set(names.values())):
            return stripped
    return names


def load_dcp_state_dict(path: str | Path, expected_keys: Collection[str] | None = None) -> dict[str, torch.Tensor]:
    """Full (unsharded) model tensors of a DCP checkpoint, in the dtypes they were saved in.

    `expected_keys` (the model's state-dict keys, when known) only resolves whether a flat checkpoint's keys carry
    NeMo-RL's `model.` prefix; checkpoints with planner data need no help.
    """
    folder = Path(path)
    reader = _storage_reader(folder)
    metadata = reader.read_metadata()
    names = model_key_names(metadata, expected_keys)
    if not names:
        raise InputError(f"{folder} holds no tensors.")
    buffers: dict[str, torch.Tensor] = {}
    for fqn in names:
        item = metadata.state_dict_metadata[fqn]
        assert isinstance(item, TensorStorageMetadata)
        buffers[fqn] = torch.empty(item.size, dtype=item.properties.dtype)
    with warnings.catch_warnings():  # "assuming the intent is to load in a single process": it is
        warnings.filterwarnings("ignore", message=".*single process.*")
        dcp.load(buffers, storage_reader=_storage_reader(folder), no_dist=True)
    return {names[fqn]: tensor for fqn, tensor in buffers.items()}
