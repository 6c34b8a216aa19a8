"""A fake GitHub / GitLab comments API on 127.0.0.1, for `nvpolicy ci pr-comment` tests.

GitHub: ``/repos/org/policies/issues/7/comments`` (GET, POST) and ``…/issues/comments/<id>`` (PATCH,
DELETE). GitLab: ``/projects/1/merge_requests/7/notes`` (GET, POST) and ``…/notes/<id>`` (PUT, DELETE).
Both page with ``per_page``/``page`` as the real APIs do.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ROUTES = {
    "github": ("/repos/org/policies/issues/7/comments", re.compile(r"^/repos/org/policies/issues/comments/(\d+)$"),
               "PATCH"),
    "gitlab": ("/projects/1/merge_requests/7/notes", re.compile(r"^/projects/1/merge_requests/7/notes/(\d+)$"),
               "PUT"),
}


class FakeForge(ThreadingHTTPServer):
    def __init__(self, forge: str = "github") -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.collection, self.item, self.update_method = ROUTES[forge]
        self.comments: dict[int, str] = {1: "a human comment"}
        self.next_id = 2
        self.refuse = False
        self.tokens: set[str] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: FakeForge

    def log_message(self, format: str, *args: Any) -> None:  # keep the test output clean
        pass

    def _reply(self, status: int, body: Any = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> str:
        text: str = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["body"]
        return text

    def _handle(self, method: str) -> None:
        self.server.tokens.add(self.headers.get("Authorization") or self.headers.get("PRIVATE-TOKEN") or "")
        if self.server.refuse:
            return self._reply(403, {"message": "Resource not accessible by integration"})
        path = self.path.split("?")[0]
        match = self.server.item.match(path)
        if method == "GET" and path == self.server.collection:
            page = int(re.search(r"[?&]page=(\d+)", self.path).group(1))  # type: ignore[union-attr]
            items = [{"id": key, "body": body} for key, body in sorted(self.server.comments.items())]
            return self._reply(200, items[(page - 1) * 100:page * 100])
        if method == "POST" and path == self.server.collection:
            self.server.comments[self.server.next_id] = self._body()
            self.server.next_id += 1
            return self._reply(201, {"id": self.server.next_id - 1})
        if match and int(match.group(1)) in self.server.comments:
            if method == self.server.update_method:
                self.server.comments[int(match.group(1))] = self._body()
                return self._reply(200, {"id": int(match.group(1))})
            if method == "DELETE":
                del self.server.comments[int(match.group(1))]
                return self._reply(204)
        return self._reply(404, {"message": "Not Found"})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")


@contextmanager
def running(forge: str = "github") -> Iterator[FakeForge]:
    server = FakeForge(forge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
