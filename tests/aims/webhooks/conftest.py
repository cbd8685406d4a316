"""A real HTTP receiver on loopback: it records every request and answers 500 when told to."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    port: int
    requests: list[Received] = field(default_factory=list)
    failures_left: int = 0
    failure_status: int = 500
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hooks") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def fail_next(self, times: int, status: int = 500) -> None:
        with self.lock:
            self.failures_left, self.failure_status = times, status

    def answer(self) -> int:
        with self.lock:
            if self.failures_left > 0:
                self.failures_left -= 1
                return self.failure_status
            return 200

    def at(self, path: str) -> list[Received]:
        return [request for request in self.requests if request.path == path]


@pytest.fixture
def receiver():
    state = Receiver(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append(Received(self.path, dict(self.headers.items()), body))
            status = state.answer()
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format, *args):  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def private_allowed(settings):
    """The receiver is on loopback, which webhooks refuse unless the instance allows it."""
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
