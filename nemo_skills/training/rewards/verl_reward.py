"""Our rewards as veRL custom reward functions, with veRL's documented signature
`fn(data_source, solution_str, ground_truth, extra_info=None)`.

    custom_reward_function.path=<site-packages>/nemo_skills/training/rewards/verl_reward.py
    custom_reward_function.name=compute_score              # math (the default name veRL looks for)
    custom_reward_function.name=compute_tool_call_score    # tool calls: ground_truth is the expected call(s) as JSON
    +custom_reward_function.reward_kwargs.timeout_s=5      # keyword options, passed through by veRL

veRL loads this file by path (as a module of its own), so it imports the installed `nemo_skills` package only
with absolute imports. Keyword options other than the ones each function takes are ignored with a warning.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from nemo_skills.training.rewards.math import math_reward
from nemo_skills.training.rewards.tool_call import tool_call_reward

LOG = logging.getLogger(__name__)
_warned: set[str] = set()


def _options(kwargs: dict[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    for name in kwargs.keys() - set(known) - _warned:
        LOG.warning("nemo_skills reward: ignoring unknown option %r (known: %s)", name, ", ".join(known))
        _warned.add(name)
    return {name: kwargs[name] for name in known if name in kwargs}


def compute_score(
    data_source: str, solution_str: str, ground_truth: Any, extra_info: Optional[dict] = None, **kwargs: Any
) -> float:
    """Math correctness (1.0 / 0.0) of `solution_str` against `ground_truth` (options: timeout_s, remove_thinking)."""
    return math_reward(solution_str, ground_truth, **_options(kwargs, ("timeout_s", "remove_thinking")))


def compute_tool_call_score(
    data_source: str, solution_str: str, ground_truth: Any, extra_info: Optional[dict] = None, **kwargs: Any
) -> float:
    """Tool-call match in [0, 1] of `solution_str` against `ground_truth` (option: extra_argument_penalty)."""
    return tool_call_reward(solution_str, ground_truth, **_options(kwargs, ("extra_argument_penalty",)))
