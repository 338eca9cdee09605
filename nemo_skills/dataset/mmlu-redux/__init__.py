from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="multichoice",
    eval_type="multichoice",
    metrics_type="multichoice",
    prompt_config="eval/mcq-4choices",
    description=(
        "MMLU-Redux 2.0 (Edinburgh): all 57 MMLU subjects re-annotated; questions the annotators found flawed are "
        "dropped and corrected gold answers used (see prepare.py); per-subject metrics."
    ),
)
