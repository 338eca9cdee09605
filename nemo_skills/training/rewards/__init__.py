"""Rewards for RL: math correctness (`math_reward`) and tool-call verification (`tool_call_reward`), plus their
veRL custom-reward-function forms (`verl_reward`) and a NeMo-RL environment around them (`nemo_rl_env`)."""

from nemo_skills.training.rewards.math import math_reward
from nemo_skills.training.rewards.tool_call import ToolCall, parse_tool_calls, tool_call_reward

__all__ = ["ToolCall", "math_reward", "parse_tool_calls", "tool_call_reward"]
