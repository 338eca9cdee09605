"""The `ns` command. Each command module registers itself on `app`; heavy libraries load inside commands only."""

from __future__ import annotations

import sys

import typer

from nemo_skills.errors import NemoSkillsError

app = typer.Typer(
    name="ns",
    help="nemo_skills: generate, evaluate and train language models, from a laptop to a Slurm cluster.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # plain help: rendering it with rich costs ~0.15 s of imports
)

# `++key=value` arguments are forwarded to the script the command runs
EXTRA_ARGS = {"allow_extra_args": True, "ignore_unknown_options": True}


def _register_commands() -> None:
    from nemo_skills.pipeline import (  # noqa: F401
        convert,
        eval,
        generate,
        prepare_data,
        prepare_training_data,
        run_cmd,
        setup,
        start_server,
        summarize_results,
        training_commands,
    )


def main() -> None:
    _register_commands()
    try:
        app()
    except NemoSkillsError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
