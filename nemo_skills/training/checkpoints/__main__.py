"""`python -m nemo_skills.training.checkpoints`: the conversion job step (see `convert.py`)."""

from nemo_skills.training.checkpoints.convert import main

if __name__ == "__main__":
    main()
