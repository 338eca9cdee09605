"""`ns summarize_results DIR`: recompute metrics from graded output files, print the tables, write metrics.json."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from nemo_skills.pipeline.cli import app


def log_to_wandb(metrics: dict[str, dict[str, dict[str, Any]]], project: str, name: str, group: str | None) -> None:
    """Every numeric metric as `<benchmark>/<mode>/<metric>` in one W&B run (wandb is imported only here)."""
    try:
        import wandb
    except ImportError:
        from nemo_skills.errors import ConfigError

        raise ConfigError("--wandb_project needs the wandb package: pip install wandb") from None
    run = wandb.init(project=project, name=name, group=group, id=f"{name}-{project}", resume="allow")
    flat = {
        f"{benchmark}/{mode}/{metric}": value
        for benchmark, modes in metrics.items()
        for mode, values in modes.items()
        for metric, value in values.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    run.log(flat)
    run.finish()


@app.command("summarize_results")
def summarize_results_command(
    results_dir: Annotated[str, typer.Argument(help="An evaluation's output folder (or one benchmark's).")],
    benchmarks: Annotated[Optional[str], typer.Option("--benchmarks", help="Only these (comma list).")] = None,
    metric_type: Annotated[
        Optional[str], typer.Option("--metric_type", help="Metrics type for every benchmark (default: its own).")
    ] = None,
    max_samples: Annotated[Optional[int], typer.Option("--max_samples", help="Only the first N problems.")] = None,
    save_metrics_path: Annotated[Optional[str], typer.Option("--save_metrics_path")] = None,
    extra_datasets: Annotated[Optional[list[str]], typer.Option("--extra_datasets")] = None,
    wandb_project: Annotated[Optional[str], typer.Option("--wandb_project", help="Log the metrics to W&B.")] = None,
    wandb_name: Annotated[Optional[str], typer.Option("--wandb_name")] = None,
    wandb_group: Annotated[Optional[str], typer.Option("--wandb_group")] = None,
) -> None:
    """Print every benchmark's metrics and write metrics.json."""
    import logging
    from pathlib import Path

    from nemo_skills.evaluation.summarize import SummarizeConfig, summarize_results

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    config = SummarizeConfig(
        results_dir=results_dir,
        benchmarks=[b.strip() for b in benchmarks.split(",")] if benchmarks else None,
        metric_type=metric_type,
        max_samples=max_samples,
        save_metrics_path=save_metrics_path,
        extra_datasets=list(extra_datasets or []),
    )
    metrics, tables = summarize_results(config)
    print(tables)
    if wandb_project:
        log_to_wandb(metrics, wandb_project, wandb_name or Path(results_dir).resolve().name, wandb_group)
