"""The evaluators shipped with nemo_skills; each module registers its own."""
