"""Start the OpenAI-compatible stub server in a subprocess for tests."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

from nemo_skills.inference.server.local import free_port
from nemo_skills.inference.server.wait import wait_for_server


@dataclass(frozen=True)
class StubHandle:
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stats(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=5) as response:
            return json.loads(response.read())


@contextlib.contextmanager
def run_stub(*args: str) -> Iterator[StubHandle]:
    port = free_port()
    cmd = [sys.executable, "-m", "nemo_skills.inference.server.stub_openai", "--port", str(port), *args]
    process = subprocess.Popen(cmd)
    try:
        wait_for_server(f"http://127.0.0.1:{port}", timeout_s=20, process=process)
        yield StubHandle(port)
    finally:
        process.kill()
        process.wait()
