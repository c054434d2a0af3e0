"""A small threaded HTTP server on 127.0.0.1 with scripted faults, shared by the fakes.

Faults are the ones a vendor's network really produces: an error status (401, 429 with
Retry-After in either form, 5xx), an answer that comes late (after the client's read
timeout), a request applied and then answered late or not at all (the connection dropped),
a connection dropped before anything is applied, and a request held open until the test
releases it (to kill the client mid-batch).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

DROPPED = -1  # recorded status of a request whose connection was dropped


@dataclass
class Fault:
    """What the next write request meets. status 0: the fake's own answer (the request is
    applied, unless it is dropped without `apply`)."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    apply: bool = False  # apply the request (as if accepted) before the fault takes effect
    delay: float = 0.0  # seconds before answering
    drop: bool = False  # close the connection without an answer
    hold: threading.Event | None = None  # answer only once the test sets it
    reached: threading.Event = field(default_factory=threading.Event)  # set on arrival


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
                status, headers, obj, fault = owner._dispatch(method, self.path, self.headers, raw)
                if fault is not None:
                    fault.reached.set()
                    if fault.hold is not None:
                        fault.hold.wait()
                    time.sleep(fault.delay)
                    if fault.drop:
                        self.close_connection = True
                        return
                data = b"" if obj is None else json.dumps(obj).encode()
                with contextlib.suppress(OSError):  # the client may have given up
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

    def script(self, fault: Fault, times: int = 1) -> Fault:
        """The next `times` write requests meet `fault` (returned, to wait on `reached`)."""
        for _ in range(times):
            self.faults.append(fault)
        return fault

    #: (method, path) -> the name of the method that answers a request's body there
    ROUTES: ClassVar[dict[tuple[str, str], str]] = {}

    def route(self, method: str, path: str) -> Callable[[bytes], Any] | None:
        """The handler ROUTES names for `method` and `path` (query string removed), if any."""
        name = self.ROUTES.get((method, path))
        return None if name is None else getattr(self, name)

    def is_write(self, method: str, path: str) -> bool:
        """Requests that change data (the ones faults and `fail_after` apply to)."""
        return method == "POST"

    def _dispatch(self, method: str, path: str, headers: Any, raw: bytes):
        with self.lock:
            is_write = self.is_write(method, path.split("?")[0])
            fault = self.faults.popleft() if is_write and self.faults else None
            if fault is None and (
                is_write and self.fail_after is not None and self.write_requests >= self.fail_after
            ):
                self.requests.append((method, path, self.fail_status))
                return self.fail_status, {}, {"status": "error", "message": "unavailable"}, None
            status, out_headers, obj = DROPPED, {}, None  # a drop that applies nothing
            if fault is None or fault.apply or not (fault.status or fault.drop):
                status, out_headers, obj = self.handle(method, path, headers, raw)
                if is_write and status < 300:
                    self.write_requests += 1
            if fault is not None and fault.status:
                status, out_headers, obj = (
                    fault.status,
                    fault.headers,
                    fault.body or {"status": "error"},
                )
            recorded = DROPPED if fault is not None and fault.drop else status
            self.requests.append((method, path, recorded))
            return status, out_headers, obj, fault

    def handle(self, method: str, path: str, headers: Any, raw: bytes):
        raise NotImplementedError
