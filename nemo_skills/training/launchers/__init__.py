"""Training launchers: NeMo-RL (SFT, GRPO) and veRL (PPO) commands rendered from their own entry points, every
override checked against the framework's real config; a Ray start-up across nodes; the conversion command.

The `ns sft_nemo_rl`, `ns grpo_nemo_rl` and `ns ppo_verl` jobs are built in `nemo_skills.pipeline.training`."""
