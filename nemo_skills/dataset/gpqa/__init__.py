from nemo_skills.dataset.spec import BenchmarkSpec

BENCHMARK = BenchmarkSpec(
    group="multichoice",
    eval_type="multichoice",
    metrics_type="multichoice",
    prompt_config="eval/mcq-4choices",
    eval_split="diamond",
    splits=("diamond", "main", "extended"),
    description=(
        "GPQA (Rein et al.): graduate-level science questions, four options shuffled per question with a fixed seed. "
        "The Hugging Face dataset Idavidrein/gpqa is gated: accept its terms on the Hub and set HF_TOKEN."
    ),
)
