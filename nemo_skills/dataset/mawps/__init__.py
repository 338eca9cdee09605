from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="math",
    eval_type="math",
    metrics_type="math",
    prompt_config="generic/math",
    description="MAWPS word problems: AddSub, SingleEq, SingleOp and MultiArith subsets (copy kept in ToRA's repo).",
)
