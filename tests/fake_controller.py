"""A fake NeuVector controller for tests: a real HTTP(S) server on 127.0.0.1, in a thread.

It serves the documented REST payloads and status codes, records every request, and has knobs
for the failures the client must explain: rejected logins, a slow or failing import, 5xx answers.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

USERNAME = "admin"
PASSWORD = "s3cret-Pa55"
APIKEY = "apikey-0123456789abcdef"
TOKEN = "token-fedcba9876543210"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeState:
    export_yaml: str = ""
    violations: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    # Knobs.
    reject_login: bool = False
    forbid: bool = False
    fail_paths: dict[str, int] = field(default_factory=dict)  # path -> status code to answer
    import_polls_before_done: int = 0  # "importing" answers before "done"
    import_failure: str | None = None  # the final status instead of "done"
    not_json: bool = False
    expire_token_once: bool = False  # answer the next token-authenticated call 401, as on an expired session
    delay: float = 0.0  # seconds to sit on every request before answering (a slow controller)
    drip: float = 0.0  # seconds between the bytes of every answer, status line included (a dripping controller)
    echo_auth: bool = False  # error answers quote the credential they got, after padding (a careless controller)
    error_message: str = "boom"  # the "message" of error answers
    answer_bytes: int = 0  # pad the export answer to this many bytes (a controller answering too much)
    # What happened.
    requests: list[Recorded] = field(default_factory=list)
    imported: list[str] = field(default_factory=list)
    status_polls: int = 0


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        state.requests.append(Recorded(method, self.path, dict(self.headers.items()), body))
        if state.delay:
            time.sleep(state.delay)
        if path in state.fail_paths:
            message = state.error_message
            if state.echo_auth:  # long enough that the credential sits across a 200-character cut
                given = self.headers.get("X-Auth-Apikey") or self.headers.get("X-Auth-Token") or ""
                message = "x" * 180 + f" bad key {given} (url {quote(given, safe='')})"
            self._json(state.fail_paths[path], {"code": 1, "error": "Internal error", "message": message})
            return
        if (method, path) == ("POST", "/v1/auth"):
            self._login(body)
            return
        if state.expire_token_once and "X-Auth-Token" in self.headers:
            state.expire_token_once = False
            self._json(401, {"code": 1, "error": "Authentication failed", "message": "Invalid or expired token"})
            return
        if not self._authorized():
            self._json(401, {"code": 1, "error": "Authentication failed", "message": "Invalid or expired token"})
            return
        if state.forbid:
            self._json(403, {"code": 3, "error": "Request forbidden", "message": "Access denied"})
            return
        if state.not_json:
            self._send(200, b"<html>not the API</html>", "text/html")
            return
        routes = {
            ("DELETE", "/v1/auth"): lambda: self._json(200, {}),
            ("POST", "/v1/file/group"): lambda: self._send(200, self._export(), "application/x-yaml"),
            ("GET", "/v1/log/violation"): lambda: self._json(200, {"violations": state.violations}),
            ("GET", "/v1/log/incident"): lambda: self._json(200, {"incidents": state.incidents}),
            ("POST", "/v1/file/group/config"): lambda: self._import(body),
            ("GET", "/v1/file/group/config"): self._import_status,
        }
        route = routes.get((method, path))
        if route is None:
            self._json(404, {"code": 2, "error": "URL not found", "message": path})
            return
        route()

    def _login(self, body: bytes) -> None:
        state = self.server.state
        try:
            given = json.loads(body)["password"]
        except (ValueError, KeyError, TypeError):
            self._json(400, {"code": 1, "error": "Request format invalid"})
            return
        if state.reject_login or given != {"username": USERNAME, "password": PASSWORD}:
            self._json(401, {"code": 1, "error": "Authentication failed", "message": "Authentication failed"})
            return
        self._json(200, {"token": {"token": TOKEN, "username": USERNAME, "role": "admin"}})

    def _authorized(self) -> bool:
        return self.headers.get("X-Auth-Token") == TOKEN or self.headers.get("X-Auth-Apikey") == APIKEY

    def _import(self, body: bytes) -> None:
        state = self.server.state
        state.imported.append(body.decode("utf-8"))
        tid = self.headers.get("X-Transaction-ID", "")
        self._json(200, {"data": {"tid": tid, "status": "preparing", "percentage": 0}})

    def _import_status(self) -> None:
        state = self.server.state
        state.status_polls += 1
        tid = self.headers.get("X-Transaction-ID", "")
        if state.status_polls <= state.import_polls_before_done:
            data = {"tid": tid, "status": "importing", "percentage": 10 * state.status_polls}
        else:
            final = state.import_failure or "done"
            data = {"tid": tid, "status": final, "percentage": 100, "triggered_by": USERNAME}
        self._json(200, {"data": data})

    def _export(self) -> bytes:
        data = self.server.state.export_yaml.encode()
        padding = self.server.state.answer_bytes - len(data)
        return data + b"#" * padding if padding > 0 else data

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _send(self, status: int, data: bytes, content_type: str) -> None:
        if self.server.state.drip:
            self._drip(status, data, content_type)
            return
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


    def _drip(self, status: int, data: bytes, content_type: str) -> None:
        head = (f"HTTP/1.1 {status} OK\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(data)}\r\n\r\n").encode()
        for byte in head + data:
            self.wfile.write(bytes([byte]))
            time.sleep(self.server.state.drip)
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: FakeState

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (the timeout tests) makes the late answer fail: expected, not news.
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError)):
            super().handle_error(request, client_address)


class FakeController:
    """``with FakeController(cert) as fake: fake.url`` — bound to 127.0.0.1 on an ephemeral port."""

    def __init__(self, cert: tuple[Path, Path] | None = None) -> None:
        self.state = FakeState()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        scheme = "http"
        if cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeController:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def paths(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.state.requests]


def make_self_signed(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 made with the openssl CLI; (cert, key)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key
