"""Our rewards as a NeMo-RL environment.

What NeMo-RL expects, as read in its sources (`nemo_rl/environments/interfaces.py`, `math_environment.py`,
`utils.py`, `distributed/ray_actor_environment_registry.py`):
- an environment is a Ray actor class built with its config dict (`env.<name>` of the YAML) and implementing
  `EnvironmentInterface`: `step(message_log_batch, metadata) -> EnvironmentReturn(observations, metadata,
  next_stop_strings, rewards, terminateds, answers)` with `rewards`/`terminateds` as tensors, and
  `global_post_process_and_metrics(batch) -> (batch, metrics)`;
- for math, each sample's metadata is the data processor's `extra_env_info`, `{"ground_truth": ...}`, and the
  response is the concatenated `content` of the conversation's `assistant` messages;
- `create_env(name, env_configs)` looks `name` up in `ENV_REGISTRY` (`register_env(name, actor_class_fqn)`) and
  needs the class's Python environment in `ACTOR_ENVIRONMENT_REGISTRY`; rows pick an environment with
  `data.default.env_name`.

`RewardEnvironment` has that shape without depending on NeMo-RL (it uses NeMo-RL's `EnvironmentReturn` and
torch tensors when they are importable). `register_with_nemo_rl()` registers the Ray actor version,
`RemoteRewardEnvironment`, under a name; then `env.<name>: {reward: math, timeout_s: 10}` (or `reward:
tool_call`, `extra_argument_penalty: 0.1`) configures it. Not confirmed here: a run inside NeMo-RL itself (it is
not installable on our machines); the shapes above are what its sources show.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple, Optional

from nemo_skills.errors import ConfigError, InputError

ENV_FQN = "nemo_skills.training.rewards.nemo_rl_env.RemoteRewardEnvironment"
IGNORED_KEYS = ("num_workers", "stop_strings")  # keys of NeMo-RL's env.math config that mean nothing here


class LocalEnvironmentReturn(NamedTuple):
    """NeMo-RL's `EnvironmentReturn` fields, used when NeMo-RL is not installed."""

    observations: list[dict[str, str]]
    metadata: list[Any]
    next_stop_strings: list[Optional[list[str]]]
    rewards: Any
    terminateds: Any
    answers: Optional[list[Optional[str]]] = None


def _reward_function(config: dict[str, Any]) -> Callable[[str, Any], float]:
    from nemo_skills.training.rewards.math import math_reward
    from nemo_skills.training.rewards.tool_call import tool_call_reward

    options = {k: v for k, v in config.items() if k not in IGNORED_KEYS}
    name = options.pop("reward", "math")
    rewards = {
        "math": (math_reward, ("timeout_s", "remove_thinking")),
        "tool_call": (tool_call_reward, ("extra_argument_penalty",)),
    }
    if name not in rewards:
        raise ConfigError(f"Unknown reward {name!r}; choose one of {', '.join(rewards)}.")
    function, known = rewards[name]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ConfigError(f"Unknown option(s) {', '.join(unknown)} for the {name} reward; known: {', '.join(known)}.")
    return functools.partial(function, **options)


def _tensor(values: list[float]) -> Any:
    try:
        import torch
    except ImportError:
        return list(values)
    return torch.tensor(values, dtype=torch.float32)


def _return_type() -> type:
    try:
        from nemo_rl.environments.interfaces import EnvironmentReturn
    except ImportError:
        return LocalEnvironmentReturn
    return EnvironmentReturn


class RewardEnvironment:
    def __init__(self, cfg: Optional[dict[str, Any]] = None):
        self.cfg = dict(cfg or {})
        self.reward = _reward_function(self.cfg)

    def step(self, message_log_batch: list[list[dict[str, Any]]], metadata: list[dict[str, Any]]) -> Any:
        rewards = []
        for index, (conversation, meta) in enumerate(zip(message_log_batch, metadata, strict=True)):
            if not isinstance(meta, dict) or "ground_truth" not in meta:
                raise InputError(f"Sample {index}: metadata has no `ground_truth` (the data processor sets it).")
            response = "".join(str(m["content"]) for m in conversation if m.get("role") == "assistant")
            rewards.append(float(self.reward(response, meta["ground_truth"])))
        return _return_type()(
            observations=[{"role": "environment", "content": f"Environment: reward {r:g}"} for r in rewards],
            metadata=metadata,
            next_stop_strings=[None] * len(rewards),
            rewards=_tensor(rewards),
            terminateds=_tensor([1.0] * len(rewards)),
            answers=None,
        )

    def global_post_process_and_metrics(self, batch: Any) -> tuple[Any, dict[str, float]]:
        """Responses that did not end properly (`is_end` 0) get reward 0, as NeMo-RL's math environment does."""
        if "is_end" in batch:
            batch["rewards"] = batch["rewards"] * batch["is_end"]
        rewards = batch["rewards"]
        metrics = {"accuracy": float(rewards.float().mean().item()) if len(rewards) else 0.0}
        if "is_end" in batch:
            metrics["fraction_of_samples_properly_ended"] = float(batch["is_end"].float().mean().item())
        return batch, metrics

    def shutdown(self) -> None:
        pass


def __getattr__(name: str) -> Any:
    """`RemoteRewardEnvironment`: the Ray actor class, made on first use so importing this needs no Ray."""
    if name != "RemoteRewardEnvironment":
        raise AttributeError(name)
    try:
        import ray
    except ImportError:
        raise ConfigError("RemoteRewardEnvironment needs Ray (it runs inside NeMo-RL).") from None
    actor = ray.remote(max_restarts=-1, max_task_retries=-1)(RewardEnvironment)
    globals()[name] = actor
    return actor


def register_with_nemo_rl(env_name: str = "nemo_skills") -> str:
    """Register `RemoteRewardEnvironment` with NeMo-RL under `env_name` (set `data.default.env_name` to it)."""
    from nemo_rl.distributed.ray_actor_environment_registry import ACTOR_ENVIRONMENT_REGISTRY
    from nemo_rl.distributed.virtual_cluster import PY_EXECUTABLES
    from nemo_rl.environments.utils import ENV_REGISTRY, register_env

    ACTOR_ENVIRONMENT_REGISTRY.setdefault(ENV_FQN, PY_EXECUTABLES.SYSTEM)
    if env_name not in ENV_REGISTRY:
        register_env(env_name, ENV_FQN)
    return env_name
