"""Client throughput: our generation vs a bare asyncio HTTP loop, against an instant local stub server.

    python benchmarks/generation_throughput.py [--num_prompts 2000] [--concurrency 512] [--litellm]

Both clients send the same chat requests to the same stub (a separate process), so the difference is client cost.
Prints requests/s, client CPU ms per request, and our/bare ratio (target: >= 0.5, <= 1 ms CPU per request).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nemo_skills.inference.generate import GenerateConfig, generate
from nemo_skills.inference.model.config import ServerConfig
from nemo_skills.inference.server.wait import wait_for_server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def bare_aiohttp(url: str, prompts: list[str], concurrency: int) -> None:
    import aiohttp

    async def run() -> None:
        semaphore = asyncio.Semaphore(concurrency)
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one(prompt: str) -> None:
                payload = {"model": "stub-model", "messages": [{"role": "user", "content": prompt}]}
                async with semaphore, session.post(url + "/chat/completions", json=payload) as response:
                    body = await response.json()
                    assert body["choices"][0]["message"]["content"]

            await asyncio.gather(*(one(p) for p in prompts))

    asyncio.run(run())


def ours(url: str, input_file: Path, output_dir: Path, concurrency: int, transport: str) -> None:
    cfg = GenerateConfig(
        input_file=str(input_file),
        output_file=str(output_dir / f"output-{transport}-{time.time_ns()}.jsonl"),
        prompt_config="generic/default",
        server=ServerConfig(server_type="vllm", base_url=url, model="stub-model", transport=transport),
        max_concurrent_requests=concurrency,
        progress_bar=False,
    )
    summary = generate(cfg)
    assert summary.num_generated == sum(1 for _ in input_file.open()), summary


def report(name: str, count: int, wall: float, cpu: float, reference: float | None = None) -> float:
    rate = count / wall
    ratio = f"  ratio to bare: {rate / reference:.2f}" if reference else ""
    print(f"{name:<22} {rate:9.0f} req/s   client CPU {1000 * cpu / count:6.3f} ms/request{ratio}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num_prompts", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=512)
    parser.add_argument("--litellm", action="store_true", help="also measure the litellm transport")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    port = free_port()
    stub = subprocess.Popen([sys.executable, "-m", "nemo_skills.inference.server.stub_openai", "--port", str(port)])
    try:
        wait_for_server(f"http://127.0.0.1:{port}", timeout_s=30)
        url = f"http://127.0.0.1:{port}/v1"
        prompts = [f"Question number {i}: what is {i} + {i}?" for i in range(args.num_prompts)]
        with tempfile.TemporaryDirectory() as tmp:
            input_file = Path(tmp) / "input.jsonl"
            input_file.write_text("".join(json.dumps({"problem": p, "id": i}) + "\n" for i, p in enumerate(prompts)))
            bare_aiohttp(url, prompts[:200], args.concurrency)  # warm-up
            print(f"{args.num_prompts} prompts, concurrency {args.concurrency}, instant stub server")
            wall, cpu = measure(lambda: bare_aiohttp(url, prompts, args.concurrency))
            bare_rate = report("bare aiohttp loop", args.num_prompts, wall, cpu)
            wall, cpu = measure(lambda: ours(url, input_file, Path(tmp), args.concurrency, "aiohttp"))
            report("nemo_skills generate", args.num_prompts, wall, cpu, bare_rate)
            if args.litellm:
                wall, cpu = measure(lambda: ours(url, input_file, Path(tmp), args.concurrency, "litellm"))
                report("generate via litellm", args.num_prompts, wall, cpu, bare_rate)
    finally:
        stub.terminate()
        stub.wait()


if __name__ == "__main__":
    main()
