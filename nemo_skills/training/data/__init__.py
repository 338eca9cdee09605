"""Training data from generation outputs: SFT examples (`prepare_sft_data`) and RL prompts with ground truths
(`prepare_rl_data`), in NeMo-RL's and veRL's formats. `ns prepare_sft_data` / `ns prepare_rl_data` wrap them."""

from nemo_skills.training.data.common import PreparationSummary, normalize_problem
from nemo_skills.training.data.rl import RlDataConfig, prepare_rl_data
from nemo_skills.training.data.sft import SftDataConfig, prepare_sft_data

__all__ = [
    "PreparationSummary",
    "RlDataConfig",
    "SftDataConfig",
    "normalize_problem",
    "prepare_rl_data",
    "prepare_sft_data",
]
