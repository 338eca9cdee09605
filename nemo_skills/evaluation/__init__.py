"""Evaluation: benchmark grading and metrics."""
