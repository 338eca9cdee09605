from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="multichoice",
    eval_type="multichoice",
    metrics_type="multichoice",
    prompt_config="eval/mcq-10choices",
    description="SuperGPQA (M-A-P): graduate-level questions in 285 disciplines, up to ten options; per-discipline.",
)
