r"""Generate model outputs for a JSONL file: async, bounded concurrency, resumable after any crash.

    python -m nemo_skills.inference.generate ++input_file=in.jsonl ++output_file=out.jsonl \
        ++prompt_config=generic/math ++server.server_type=vllm ++server.base_url=http://127.0.0.1:5000/v1
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional  # noqa: UP035 - OmegaConf needs typing generics

from nemo_skills.errors import ConfigError, InputError, ServerError
from nemo_skills.inference.code_execution import CodeExecutionConfig
from nemo_skills.inference.model.config import InferenceConfig, ServerConfig
from nemo_skills.inference.output_files import (
    chunk_bounds,
    chunk_output_file,
    done_marker,
    is_done,
    mark_done,
    merge_chunks,
)
from nemo_skills.inference.resume import ProgressFile, input_hash
from nemo_skills.utils.entry import run_with_overrides
from nemo_skills.utils.jsonl import JsonlRow, read_jsonl_rows

LOG = logging.getLogger("nemo_skills.generate")
STATS_FIELDS = (
    "num_generated_tokens",
    "num_input_tokens",
    "generation_start_time",
    "generation_end_time",
    "generation_time",
)


@dataclass
class GenerateConfig:
    input_file: str = ""
    output_file: str = ""
    prompt_config: Optional[str] = None  # a shipped name such as generic/math, or a path to a .yaml file
    prompt_format: str = "ns"  # ns: fill prompt_config from each row | openai: rows carry `messages`
    prompt_suffix: str = ""
    system_message: Optional[str] = None  # replaces the prompt config's (or the row's) system message
    examples_type: Optional[str] = None  # few-shot set, overriding the prompt config's
    code_tags: Optional[str] = None
    tokenizer: Optional[str] = None  # local tokenizer for the text endpoint; defaults to server.model
    chat_template_kwargs: dict[str, Any] = field(default_factory=dict)
    server: ServerConfig = field(default_factory=ServerConfig)
    inference: InferenceConfig = field(default_factory=InferenceConfig)
    random_seed: Optional[int] = None  # shorthand for inference.random_seed
    max_samples: int = -1  # generate for the first N rows only (-1: all)
    skip_filled: bool = True  # resume: keep finished samples; False starts the file over
    max_concurrent_requests: int = 512
    num_chunks: Optional[int] = None
    chunk_id: Optional[int] = None
    merge_chunks: bool = True  # the last chunk to finish joins all chunks into output_file
    generation_key: str = "generation"
    add_generation_stats: bool = True
    code_execution: bool = False  # run the model's code blocks in the sandbox and let it continue
    code_execution_config: CodeExecutionConfig = field(default_factory=CodeExecutionConfig)
    server_wait_timeout_s: float = 0.0  # > 0: wait this long for the server to answer before starting
    dry_run: bool = False  # print the first prompt and the number of requests, send nothing
    progress_bar: bool = True


@dataclass
class GenerationSummary:
    output_file: Path
    num_rows: int
    num_generated: int
    num_resumed: int
    already_done: bool = False
    elapsed_s: float = 0.0
    retries: int = 0

    @property
    def requests_per_s(self) -> float:
        return self.num_generated / self.elapsed_s if self.elapsed_s else 0.0


class GenerationTask:
    """One generation run. Subclasses change how prompts are built or rows are processed."""

    def __init__(self, cfg: GenerateConfig):
        self.cfg = cfg
        check_config(cfg)
        if cfg.random_seed is not None:
            cfg.inference.random_seed = cfg.random_seed
        if cfg.chat_template_kwargs and cfg.inference.endpoint_type == "chat":
            # the chat endpoint renders the template on the server (vLLM and SGLang take these per request)
            if "chat_template_kwargs" in cfg.inference.extra_body:
                raise ConfigError("Give chat_template_kwargs once: in ++chat_template_kwargs or in extra_body.")
            cfg.inference.extra_body = {**cfg.inference.extra_body, "chat_template_kwargs": cfg.chat_template_kwargs}
        chunked = cfg.num_chunks is not None
        self.output_file = chunk_output_file(cfg.output_file, cfg.chunk_id) if chunked else Path(cfg.output_file)
        self.prompt = self._setup_prompt()
        self.renderer = self._setup_renderer()

    # ---- set-up ----
    def _setup_prompt(self):
        from nemo_skills.prompt.prompt import Prompt

        if self.cfg.prompt_format == "openai":
            return None
        return Prompt.from_names(
            self.cfg.prompt_config,
            code_tags=self.cfg.code_tags,
            examples_type=self.cfg.examples_type,
            system_message=self.cfg.system_message,
            prompt_suffix=self.cfg.prompt_suffix,
        )

    def _setup_renderer(self):
        if self.cfg.inference.endpoint_type != "text":
            return None
        from nemo_skills.prompt.prompt import ChatTemplateRenderer

        return ChatTemplateRenderer(self.cfg.tokenizer or self.cfg.server.model, self.cfg.chat_template_kwargs)

    def load_rows(self) -> tuple[list[JsonlRow], list[int]]:
        """All input rows and the positions this run is responsible for (its chunk, capped by max_samples)."""
        rows = read_jsonl_rows(self.cfg.input_file)
        start, end = 0, len(rows)
        if self.cfg.num_chunks is not None:
            start, end = chunk_bounds(len(rows), self.cfg.num_chunks, self.cfg.chunk_id)
        if self.cfg.max_samples >= 0:
            end = min(end, start + self.cfg.max_samples)
        positions = list(range(start, end))
        self.check_rows(rows, positions)
        return rows, positions

    def check_rows(self, rows: list[JsonlRow], positions: list[int]) -> None:
        """Fail before any request if a row cannot be turned into a prompt."""
        for position in positions:
            row = rows[position]
            if self.prompt is not None:
                missing = self.prompt.missing_fields(row.data)
                if missing:
                    raise InputError(
                        f"{self.cfg.input_file}:{row.line_number}: the row has no field {missing[0]!r}, which "
                        f"prompt {self.cfg.prompt_config} uses (row fields: {', '.join(sorted(row.data))})."
                    )
            elif not isinstance(row.data.get("messages"), list):
                raise InputError(
                    f"{self.cfg.input_file}:{row.line_number}: prompt_format=openai needs a `messages` list in "
                    "every row."
                )

    # ---- per row ----
    def build_prompt(self, row: dict[str, Any]) -> str | list[dict[str, Any]]:
        if self.prompt is not None:
            messages = self.prompt.fill(row, seed=self.cfg.inference.random_seed)
        else:
            messages = openai_messages(row["messages"], self.cfg.system_message, self.cfg.prompt_suffix)
        return self.renderer.render(messages) if self.renderer is not None else messages

    async def process_row(self, client, row: dict[str, Any]) -> dict[str, Any]:
        prompt = self.build_prompt(row)
        start = time.time()
        result = await client.generate(prompt)
        end = time.time()
        output = result.to_record()
        if self.cfg.generation_key != "generation":
            output = {(self.cfg.generation_key if k == "generation" else k): v for k, v in output.items()}
        if self.cfg.add_generation_stats:
            output.update(generation_start_time=start, generation_end_time=end, generation_time=end - start)
        else:
            for name in STATS_FIELDS:
                output.pop(name, None)
        return {**row, **output}

    # ---- the run ----
    def run(self) -> GenerationSummary:
        cfg = self.cfg
        merged_done = cfg.num_chunks is not None and is_done(cfg.output_file)
        if cfg.skip_filled and (is_done(self.output_file) or merged_done):
            LOG.info("%s is already complete (.done marker present); nothing to do", self.output_file)
            return GenerationSummary(self.output_file, 0, 0, 0, already_done=True)
        self.output_file.parent.mkdir(parents=True, exist_ok=True)
        progress = ProgressFile(self.output_file)
        if not cfg.skip_filled and not cfg.dry_run:
            self._start_over(progress)
        rows, positions = self.load_rows()
        hashes = {position: input_hash(rows[position].raw) for position in positions}
        finished = progress.load(hashes)
        pending = [position for position in positions if position not in finished]
        if cfg.dry_run:
            self._print_dry_run(rows, positions, pending)
            return GenerationSummary(self.output_file, len(positions), 0, len(positions) - len(pending))
        LOG.info(
            "%s: %d rows, %d already generated, %d to go",
            self.output_file,
            len(positions),
            len(positions) - len(pending),
            len(pending),
        )
        start = time.time()
        retries = 0
        if pending:
            retries = asyncio.run(self._generate_all(rows, pending, hashes, progress))
        elapsed = time.time() - start
        summary = GenerationSummary(
            self.output_file,
            len(positions),
            len(pending),
            len(positions) - len(pending),
            elapsed_s=elapsed,
            retries=retries,
        )
        progress.finalize(positions)
        write_run_record(self.cfg, summary)
        mark_done(self.output_file)
        progress.remove()
        LOG.info(
            "Wrote %s: %d rows (%d generated at %.1f req/s, %d retries)",
            self.output_file,
            len(positions),
            len(pending),
            summary.requests_per_s,
            retries,
        )
        if cfg.num_chunks is not None and cfg.merge_chunks:
            merge_chunks(cfg.output_file, cfg.num_chunks)
        return summary

    def _start_over(self, progress: ProgressFile) -> None:
        progress.remove()
        done_marker(self.output_file).unlink(missing_ok=True)
        if self.cfg.num_chunks is not None:  # the merged file is rebuilt once every chunk is done again
            done_marker(self.cfg.output_file).unlink(missing_ok=True)

    def _print_dry_run(self, rows: list[JsonlRow], positions: list[int], pending: list[int]) -> None:
        print(
            f"Dry run: {len(pending)} requests to send ({len(positions) - len(pending)} of {len(positions)} rows "
            f"already generated) -> {self.output_file}"
        )
        if positions:
            print("First prompt:")
            print(self.build_prompt(rows[(pending or positions)[0]].data))

    async def _generate_all(
        self, rows: list[JsonlRow], pending: list[int], hashes: dict[int, str], progress: ProgressFile
    ) -> int:
        from tqdm import tqdm

        from nemo_skills.inference.model.client import ModelClient

        cfg = self.cfg
        if cfg.server_wait_timeout_s > 0:
            await asyncio.to_thread(self._wait_for_server)
        queue = iter(pending)
        total = len(hashes)
        bar = tqdm(
            total=total,
            initial=total - len(pending),
            disable=not cfg.progress_bar,
            mininterval=0.5,
            desc=self.output_file.name,
            unit="req",
            smoothing=0.05,
        )

        async def worker() -> None:
            for position in queue:  # one shared iterator: each position goes to exactly one worker
                record = await self.process_row(client, rows[position].data)
                progress.append(position, hashes[position], record)
                bar.update(1)

        async with ModelClient(cfg.server, cfg.inference, cfg.max_concurrent_requests) as model:
            client = await self._code_execution_generator(model) if cfg.code_execution else model
            workers = [asyncio.create_task(worker()) for _ in range(min(cfg.max_concurrent_requests, len(pending)))]
            try:
                done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
                for task in done:
                    task.result()
            finally:
                for task in workers:
                    task.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
                progress.close()
                bar.close()
                if client is not model:
                    await client.sandbox.close()
            return model.stats.retries

    async def _code_execution_generator(self, model):
        from nemo_skills.code_execution.client import SandboxClient, SandboxError
        from nemo_skills.inference.code_execution import CodeExecutionGenerator
        from nemo_skills.prompt.config import CodeTags, load_code_tags

        tags = self.prompt.code_tags if self.prompt is not None else None
        tags = tags or (load_code_tags(self.cfg.code_tags) if self.cfg.code_tags else CodeTags())
        sandbox = SandboxClient(self.cfg.code_execution_config.sandbox_url(), max_retries=2)
        try:
            await sandbox.health()
        except (SandboxError, asyncio.TimeoutError) as error:
            await sandbox.close()
            raise ServerError(
                f"No code sandbox at {sandbox.base_url} ({error}); start one (ns generate "
                "--with_sandbox) or set ++code_execution_config.sandbox_host/port."
            ) from None
        return CodeExecutionGenerator(model, sandbox, tags, self.cfg.code_execution_config)

    def _wait_for_server(self) -> None:
        from nemo_skills.inference.model.backend import get_backend
        from nemo_skills.inference.server.wait import wait_for_server

        base_url = get_backend(self.cfg.server).base_url()
        root = base_url[: -len("/v1")] if base_url.endswith("/v1") else base_url
        wait_for_server(root, timeout_s=self.cfg.server_wait_timeout_s)


def write_run_record(cfg: GenerateConfig, summary: GenerationSummary) -> Path:
    """`<output>.run.json`: what produced the file (config, versions, figures), to rebuild or audit the run."""
    import dataclasses
    import json
    import platform
    from importlib.metadata import PackageNotFoundError, version

    try:
        package_version = version("nemo_skills")
    except PackageNotFoundError:
        package_version = "unknown"
    record = {
        "record_version": 1,
        "kind": "generation",
        "nemo_skills_version": package_version,
        "python_version": platform.python_version(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": dataclasses.asdict(cfg),
        "summary": {
            "num_rows": summary.num_rows,
            "num_generated": summary.num_generated,
            "num_resumed": summary.num_resumed,
            "elapsed_s": round(summary.elapsed_s, 3),
            "retries": summary.retries,
        },
    }
    path = Path(f"{summary.output_file}.run.json")
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def openai_messages(messages: list[dict[str, Any]], system_message: str | None, suffix: str) -> list[dict[str, Any]]:
    messages = [dict(message) for message in messages]
    if system_message is not None:  # replaces the row's system message; an empty one removes it
        if messages and messages[0].get("role") == "system":
            messages.pop(0)
        if system_message:
            messages.insert(0, {"role": "system", "content": system_message})
    if suffix:
        last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=None)
        if last_user is not None:
            messages[last_user]["content"] = str(messages[last_user]["content"]) + suffix
    return messages


def validate_config(cfg: GenerateConfig) -> None:
    if not cfg.input_file or not cfg.output_file:
        raise ConfigError("Both ++input_file and ++output_file are required.")
    if cfg.prompt_format not in ("ns", "openai"):
        raise ConfigError(f"++prompt_format must be ns or openai, got {cfg.prompt_format!r}.")
    if cfg.prompt_format == "ns" and not cfg.prompt_config:
        raise ConfigError("++prompt_config is required with prompt_format=ns (e.g. ++prompt_config=generic/math).")
    if cfg.prompt_format == "openai" and cfg.prompt_config:
        raise ConfigError("++prompt_config cannot be used with prompt_format=openai: rows already carry messages.")
    if (cfg.num_chunks is None) != (cfg.chunk_id is None):
        raise ConfigError("++num_chunks and ++chunk_id go together.")
    if cfg.num_chunks is not None and not 0 <= cfg.chunk_id < cfg.num_chunks:
        raise ConfigError(f"++chunk_id must be in [0, {cfg.num_chunks}), got {cfg.chunk_id}.")
    if cfg.max_concurrent_requests < 1:
        raise ConfigError("++max_concurrent_requests must be at least 1.")
    if Path(cfg.input_file).resolve() == Path(cfg.output_file).resolve():
        raise ConfigError("++output_file must differ from ++input_file.")


def check_config(cfg: GenerateConfig) -> None:
    """Everything that can be checked without the data or the server: run it before starting anything."""
    from nemo_skills.inference.model.backend import get_backend
    from nemo_skills.prompt.config import load_code_tags, load_prompt_config

    validate_config(cfg)
    if cfg.server.transport not in ("aiohttp", "litellm"):
        raise ConfigError(f"++server.transport must be aiohttp or litellm, got {cfg.server.transport!r}.")
    if cfg.server.transport == "litellm" and cfg.server.server_type == "azureopenai":
        raise ConfigError("Azure OpenAI needs the default transport (its api-version query is lost through litellm).")
    get_backend(cfg.server).validate(cfg.inference)
    if cfg.chat_template_kwargs and "chat_template_kwargs" in cfg.inference.extra_body:
        raise ConfigError("Give chat_template_kwargs once: in ++chat_template_kwargs or in extra_body.")
    if cfg.prompt_config:
        load_prompt_config(cfg.prompt_config)
    if cfg.code_tags:
        load_code_tags(cfg.code_tags)


def generate(cfg: GenerateConfig) -> GenerationSummary:
    """The public Python API of the generation task."""
    return GenerationTask(cfg).run()


def main(argv: list[str] | None = None) -> int:
    return run_with_overrides(__doc__, GenerateConfig, generate, argv)


if __name__ == "__main__":
    sys.exit(main())
