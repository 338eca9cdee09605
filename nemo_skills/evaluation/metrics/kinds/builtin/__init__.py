"""The metric types shipped with nemo_skills; each module registers its own."""
