"""A fast OpenAI-compatible stub server for tests, demos and client benchmarks, with scripted faults.

It answers instantly with a deterministic echo of the prompt, so the client is the only thing being measured, and
it can inject the failures real servers produce: `429` with Retry-After, `500`, a reset connection, or a hang.

    python -m nemo_skills.inference.server.stub_openai --port 5000 [--fault 429 --fault_every 5]

Written on raw asyncio so that one core serves several thousand requests per second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import dataclass, field

FAULTS = ("none", "429", "500", "reset", "hang")


@dataclass
class StubOptions:
    fault: str = "none"
    fault_every: int = 0  # every Nth completion request gets the fault (0: never)
    hang_s: float = 30.0
    delay_s: float = 0.0
    model: str = "stub-model"
    script: str = "echo"  # echo | code: first writes a python block, then answers once it sees the output
    # scripted answers: [{"match": text in the prompt, "responses": [per seed...], "finish_reasons": [...]}]
    answers: list[dict] = field(default_factory=list)


@dataclass
class StubStats:
    completions: int = 0
    faults: int = 0
    by_path: dict[str, int] = field(default_factory=dict)


def _last_user_text(payload: dict) -> str:
    if "messages" in payload:
        users = [m.get("content", "") for m in payload["messages"] if m.get("role") == "user"]
        return str(users[-1]) if users else ""
    return str(payload.get("prompt", ""))


CODE_STEP = "Let me compute it.\n```python\nprint(6 * 7)\n"
CODE_ANSWER = "So the answer is \\boxed{42}."


def code_script_text(payload: dict) -> tuple[str, str | None]:
    """A scripted tool-using model: a code block stopped at its closing fence, then an answer after the output."""
    seen = payload.get("prompt", "") + "".join(str(m.get("content", "")) for m in payload.get("messages", []))
    if "```output" in seen:
        return CODE_ANSWER, None
    stops = payload.get("stop") or []
    if "```\n" in stops:
        return CODE_STEP, "```\n"
    return CODE_STEP + "```\n", None


def scripted_answer(payload: dict, answers: list[dict]) -> tuple[str, str] | None:
    """(text, finish_reason) of the first scripted entry whose `match` is in the prompt, picked by the seed."""
    seen = payload.get("prompt", "") + "".join(str(m.get("content", "")) for m in payload.get("messages", []))
    for entry in answers:
        if entry["match"] in seen:
            index = (payload.get("seed") or 0) % len(entry["responses"])
            reasons = entry.get("finish_reasons") or ["stop"] * len(entry["responses"])
            return entry["responses"][index], reasons[index]
    return None


def completion_body(payload: dict, model: str, script: str = "echo", answers: list[dict] | None = None) -> dict:
    """Echo the last user message (or the prompt), cut to max_tokens words; `length` when cut. With `answers`,
    a matching scripted answer is returned as is, with its scripted finish reason."""
    stop_reason = None
    scripted = scripted_answer(payload, answers) if answers else None
    if scripted is not None:
        words = scripted[0].split(" ")
    elif script == "code":
        text, stop_reason = code_script_text(payload)
        words = text.split(" ")
    else:
        words = ("echo: " + _last_user_text(payload)).split(" ")
    limit = payload.get("max_tokens") or payload.get("max_completion_tokens")
    truncated = limit is not None and len(words) > limit
    words = words[:limit] if truncated else words
    text = " ".join(words)
    finish = "length" if truncated else "stop"
    if scripted is not None:
        text, finish = scripted
    usage = {"prompt_tokens": len(_last_user_text(payload).split()), "completion_tokens": len(words)}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    if "messages" in payload:
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": finish,
            "stop_reason": stop_reason,
        }
        return {"id": "stub", "object": "chat.completion", "model": model, "choices": [choice], "usage": usage}
    choice = {"index": 0, "text": text, "finish_reason": finish, "stop_reason": stop_reason}
    return {"id": "stub", "object": "text_completion", "model": model, "choices": [choice], "usage": usage}


class _HttpProtocol(asyncio.Protocol):
    def __init__(self, server: StubServer):
        self.server = server
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self.buffer) < head_end + 4 + length:
                return
            body = self.buffer[head_end + 4 : head_end + 4 + length]
            self.buffer = self.buffer[head_end + 4 + length :]
            method, path, _ = head.split(" ", 2)
            self.server.handle(self, method, path, body)

    def send(self, status: int, body: dict, extra_headers: str = "") -> None:
        if self.transport is None or self.transport.is_closing():
            return
        data = json.dumps(body).encode()
        reason = {200: "OK", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error"}.get(status, "")
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            f"{extra_headers}\r\n"
        )
        self.transport.write(head.encode() + data)


class StubServer:
    def __init__(self, options: StubOptions):
        self.options = options
        self.stats = StubStats()

    def handle(self, protocol: _HttpProtocol, method: str, path: str, body: bytes) -> None:
        self.stats.by_path[path] = self.stats.by_path.get(path, 0) + 1
        if method == "GET" and path in ("/health", "/v1/models"):
            protocol.send(200, {"object": "list", "data": [{"id": self.options.model, "object": "model"}]})
        elif method == "GET" and path == "/stats":
            protocol.send(
                200,
                {"completions": self.stats.completions, "faults": self.stats.faults, "by_path": self.stats.by_path},
            )
        elif method == "POST" and path in ("/v1/chat/completions", "/v1/completions"):
            self.stats.completions += 1
            if self._should_fault():
                self._fault(protocol)
            elif self.options.delay_s:
                asyncio.get_running_loop().call_later(self.options.delay_s, self._answer, protocol, body)
            else:
                self._answer(protocol, body)
        else:
            protocol.send(404, {"error": {"message": f"no route {method} {path}"}})

    def _should_fault(self) -> bool:
        every = self.options.fault_every
        return self.options.fault != "none" and every > 0 and self.stats.completions % every == 0

    def _fault(self, protocol: _HttpProtocol) -> None:
        self.stats.faults += 1
        fault = self.options.fault
        if fault == "429":
            protocol.send(429, {"error": {"message": "rate limited"}}, "Retry-After: 0.05\r\n")
        elif fault == "500":
            protocol.send(500, {"error": {"message": "internal error"}})
        elif fault == "reset" and protocol.transport is not None:
            protocol.transport.abort()
        elif fault == "hang" and protocol.transport is not None:
            asyncio.get_running_loop().call_later(self.options.hang_s, protocol.transport.close)

    def _answer(self, protocol: _HttpProtocol, body: bytes) -> None:
        try:
            payload = json.loads(body)
        except ValueError:
            protocol.send(400, {"error": {"message": "body is not JSON"}})
            return
        protocol.send(200, completion_body(payload, self.options.model, self.options.script, self.options.answers))

    async def serve(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _HttpProtocol(self), host, port, backlog=4096)
        async with server:
            await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description="OpenAI-compatible stub server with scripted faults")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--fault", choices=FAULTS, default="none")
    parser.add_argument("--fault_every", type=int, default=0)
    parser.add_argument("--hang_s", type=float, default=30.0)
    parser.add_argument("--delay_s", type=float, default=0.0)
    parser.add_argument("--model", default="stub-model", help="the served model name")
    parser.add_argument("--script", choices=("echo", "code"), default="echo", help="what the stub model answers")
    parser.add_argument("--answers", help="JSON file of scripted answers (see StubOptions.answers)")
    # accepted so the stub can stand in for a `generic` server (entrypoint contract of the launch commands)
    parser.add_argument("--num_gpus", type=int, default=0)
    parser.add_argument("--num_nodes", type=int, default=1)
    args = parser.parse_args()
    options = StubOptions(args.fault, args.fault_every, args.hang_s, args.delay_s, args.model, args.script)
    if args.answers:
        with open(args.answers) as handle:
            options.answers = json.load(handle)
    try:
        asyncio.run(StubServer(options).serve(args.host, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
