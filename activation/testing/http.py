"""A small threaded HTTP server on 127.0.0.1 with scripted faults, shared by the fakes."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Fault:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)


class FakeServer:
    """Subclasses implement `handle(method, path, headers, body) -> (status, headers, obj)`."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.faults: deque[Fault] = deque()
        self.fail_after: int | None = None  # successful write requests before permanent 503
        self.fail_status = 503
        self.write_requests = 0
        self.requests: list[tuple[str, str, int]] = []  # method, path, status
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                return

            def _go(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, headers, obj = owner._dispatch(method, self.path, self.headers, raw)
                data = b"" if obj is None else json.dumps(obj).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._go("GET")

            def do_POST(self) -> None:
                self._go("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def inject(self, status: int, times: int = 1, **headers: str) -> None:
        """The next `times` write requests answer `status` with `headers`."""
        for _ in range(times):
            self.faults.append(Fault(status, {k.replace("_", "-"): v for k, v in headers.items()}))

    def _dispatch(self, method: str, path: str, headers: Any, raw: bytes):
        with self.lock:
            is_write = method == "POST"
            if is_write and self.faults:
                fault = self.faults.popleft()
                self.requests.append((method, path, fault.status))
                return fault.status, fault.headers, fault.body or {"status": "error"}
            if is_write and self.fail_after is not None and self.write_requests >= self.fail_after:
                self.requests.append((method, path, self.fail_status))
                return self.fail_status, {}, {"status": "error", "message": "unavailable"}
            status, out_headers, obj = self.handle(method, path, headers, raw)
            if is_write and status < 300:
                self.write_requests += 1
            self.requests.append((method, path, status))
            return status, out_headers, obj

    def handle(self, method: str, path: str, headers: Any, raw: bytes):
        raise NotImplementedError
