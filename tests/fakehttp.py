"""A scripted HTTP server on 127.0.0.1 for testing the live sources without the internet.

    with FakeServer() as server:
        server.route("/v8/finance/chart/%5EGSPC", [Reply(429), Reply(200, body)])
        url = server.url  # http://127.0.0.1:PORT

A route serves its replies in order and repeats the last one; `server.requests` logs every hit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to stall before answering (for timeout tests)
    truncate: bool = False  # announce the full length but close after half the body
    trickle: float = 0.0  # > 0: after the headers (no Content-Length), one body byte every `trickle` s, forever
    hang: bool = False  # announce the full length, send the headers, then nothing until the server closes


@dataclass
class Hit:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


Responder = Callable[[Hit], Reply]


class FakeServer:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply] | Responder] = {}
        self.counts: dict[str, int] = {}
        self.requests: list[Hit] = []
        self.default = Reply(404, b"not found")
        self._lock = threading.Lock()
        self._closing = threading.Event()  # ends trickling and hanging replies when the server shuts down
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, replies: list[Reply] | Reply | Responder) -> None:
        """Serve `replies` for `path` (exact, without query); a callable decides per request."""
        self.routes[path] = [replies] if isinstance(replies, Reply) else replies
        self.counts[path] = 0

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def _reply_for(self, hit: Hit) -> Reply:
        with self._lock:
            self.requests.append(hit)
            replies = self.routes.get(hit.path)
            if replies is None:
                return self.default
            if callable(replies):
                return replies(hit)
            n = self.counts[hit.path]
            self.counts[hit.path] = n + 1
            return replies[min(n, len(replies) - 1)]

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                hit = Hit(parts.path, parse_qs(parts.query), dict(self.headers))
                reply = server._reply_for(hit)
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body.encode() if isinstance(reply.body, str) else reply.body
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    if reply.trickle:  # HTTP/1.0 without a length: the body ends when the connection does
                        self.end_headers()
                        self._trickle(body or b" ", reply.trickle)
                        return
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if reply.hang:
                        self.wfile.flush()
                        server._closing.wait()
                        return
                    self.wfile.write(body[: len(body) // 2] if reply.truncate else body)
                    if reply.truncate:
                        self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _trickle(self, body: bytes, interval: float) -> None:
                """`body` one byte at a time, round and round, until the client or the server leaves."""
                i = 0
                while not server._closing.wait(interval):
                    self.wfile.write(body[i % len(body) : i % len(body) + 1])
                    self.wfile.flush()
                    i += 1

        return Handler
