"""Training: data preparation for SFT/RL, rewards, checkpoint conversion, and the NeMo-RL and veRL launchers."""
