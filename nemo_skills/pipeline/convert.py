"""`ns convert`: training checkpoints (NeMo-RL DCP, veRL FSDP) to a Hugging Face model folder, with averaging."""

from __future__ import annotations

import logging
from typing import Annotated, Optional

import typer

from nemo_skills.pipeline.cli import app


@app.command("convert")
def convert_command(
    input: Annotated[
        list[str],
        typer.Option(
            "--input", help="Training checkpoint folder (or one step); repeat it to average HF model folders."
        ),
    ],
    output: Annotated[str, typer.Option("--output", help="The Hugging Face model folder to write.")],
    format: Annotated[str, typer.Option("--format", help="auto, dcp (NeMo-RL), fsdp (veRL) or hf.")] = "auto",
    base_model: Annotated[
        Optional[str],
        typer.Option("--base_model", help="HF model the run started from (config; tokenizer if none was saved)."),
    ] = None,
    step: Annotated[
        Optional[str], typer.Option("--step", help="Step to convert: a number, or final (the highest).")
    ] = None,
    average_steps: Annotated[
        Optional[str], typer.Option("--average_steps", help="Average these steps into one model, e.g. 100,200,300.")
    ] = None,
    average_weights: Annotated[
        Optional[str], typer.Option("--average_weights", help="Weights of the averaged checkpoints, e.g. 1,1,2.")
    ] = None,
    dtype: Annotated[
        str, typer.Option("--dtype", help="auto (the base model's dtype), bfloat16, float16 or float32.")
    ] = "auto",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output folder.")] = False,
) -> None:
    """Convert the final (or a chosen, or an averaged) training checkpoint into a Hugging Face model folder."""
    from nemo_skills.training.checkpoints.convert import ConvertConfig, convert_checkpoint, parse_list, parse_step

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = ConvertConfig(
        input=list(input),
        output=output,
        format=format,
        base_model=base_model,
        step=parse_step(step),
        average_steps=parse_list(average_steps, int, "--average_steps"),
        average_weights=parse_list(average_weights, float, "--average_weights"),
        dtype=dtype,
        overwrite=overwrite,
    )
    print(convert_checkpoint(config))
