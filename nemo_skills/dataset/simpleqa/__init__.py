from nemo_skills.dataset.spec import BenchmarkSpec, JudgeSpec

BENCHMARK = BenchmarkSpec(
    group="math",  # as in the reference, so `--dataset_groups math` prepares it
    eval_type="no-op",
    metrics_type="simpleqa",
    prompt_config="generic/default",
    eval_split="verified",
    splits=("verified", "test"),
    judge=JudgeSpec(prompt_config="judge/simpleqa", eval_type="simpleqa-judge"),
    description=(
        "SimpleQA (OpenAI): short fact-seeking questions graded correct / incorrect / not attempted by an LLM judge. "
        "Split `verified` is SimpleQA Verified (1,000 re-checked questions), `test` the original 4,326."
    ),
)
