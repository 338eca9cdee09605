"""What the job after training converts: the trained checkpoints into a Hugging Face model folder.

The conversion itself (DCP / FSDP checkpoints to HF safetensors, and averaging) is `nemo_skills.training.checkpoints`;
its `ConvertConfig` and `conversion_command` are the contract used here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nemo_skills.errors import ConfigError

# (framework, checkpoint backend) -> the checkpoint format `nemo_skills.training.checkpoints` reads
FORMATS = {("nemo_rl", "dtensor"): "dcp", ("verl", "fsdp"): "fsdp"}


def conversion_config(
    framework: str,
    backend: str,
    checkpoint_dir: str,
    base_model: str,
    output: str,
    step: str = "last",
    average_steps: Sequence[int] = (),
) -> Any:
    """The ConvertConfig of the conversion job (paths as the job sees them); ConfigError when it cannot convert."""
    from nemo_skills.training.checkpoints import ConvertConfig

    format_ = FORMATS.get((framework, backend))
    if format_ is None:
        raise ConfigError(
            f"Converting {framework} {backend} checkpoints to Hugging Face is not supported yet; pass "
            "--conversion_step none and convert with the framework's own tool."
        )
    return ConvertConfig(
        input=[checkpoint_dir],
        output=output,
        format=format_,
        base_model=base_model,
        step=None if step == "last" else int(step),
        average_steps=list(average_steps) or None,
    )
