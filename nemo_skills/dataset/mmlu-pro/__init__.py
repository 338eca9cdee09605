from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="multichoice",
    eval_type="multichoice",
    metrics_type="multichoice",
    prompt_config="eval/mcq-10choices",
    splits=("test", "validation"),
    description="MMLU-Pro (TIGER-Lab): harder MMLU-style questions, up to ten options (A-J); per-category metrics.",
)
