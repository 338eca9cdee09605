"""Checkpoint conversion: NeMo-RL DCP and veRL FSDP checkpoints to Hugging Face folders, and checkpoint averaging.

Importing this package loads no torch; the readers (`dcp`, `fsdp`, `hf`, `average`) import it when used.
"""

from nemo_skills.training.checkpoints.convert import ConvertConfig, conversion_command, convert_checkpoint
from nemo_skills.training.checkpoints.layout import Checkpoint, find_steps, select_checkpoints

__all__ = [
    "Checkpoint",
    "ConvertConfig",
    "conversion_command",
    "convert_checkpoint",
    "find_steps",
    "select_checkpoints",
]
