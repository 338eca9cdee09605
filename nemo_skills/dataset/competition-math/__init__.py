from nemo_skills.dataset.spec import BenchmarkGroup, GroupMember

BENCHMARK = BenchmarkGroup(
    members=(GroupMember("aime24"), GroupMember("aime25"), GroupMember("hmmt_feb25"), GroupMember("brumo25")),
    description="Recent olympiad-style competitions with short answers; the group score is the mean of its members'.",
)
