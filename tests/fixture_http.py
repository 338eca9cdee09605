"""A loopback HTTP server that serves upstream-format fixture files, standing in for GitHub / Hugging Face."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FixtureServer:
    def __init__(self, files: dict[str, bytes]):
        self.files = dict(files)  # "<host>/<path>" (as mirrored) -> content
        self.requests: list[str] = []
        self.fail_paths: dict[str, int] = {}  # path -> HTTP status to answer instead
        self.port = 0

    @property
    def mirror(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def serve_fixtures(files: dict[str, bytes]) -> Iterator[FixtureServer]:
    state = FixtureServer(files)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.lstrip("/")
            state.requests.append(path)
            status = state.fail_paths.get(path)
            content = state.files.get(path)
            if status is None and content is None:
                status = 404
            if status is not None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
