from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="multichoice",
    eval_type="multichoice",
    metrics_type="multichoice",
    prompt_config="eval/mcq-4choices",
    splits=("test", "dev", "val"),
    description="MMLU (Hendrycks et al.): 57 subjects of four-option questions; per-subject metrics.",
)
