"""`ci/pr_comment.py` against a fake GitHub comments API on 127.0.0.1: a rerun edits, never piles up."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

COLLECTION = "/repos/org/policies/issues/7/comments"
ITEM = re.compile(r"^/repos/org/policies/issues/comments/(\d+)$")


class FakeGitHub(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.comments: dict[int, str] = {1: "a human comment"}
        self.next_id = 2
        self.refuse = False
        self.tokens: set[str] = set()


class Handler(BaseHTTPRequestHandler):
    server: FakeGitHub

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
        self.server.tokens.add(self.headers.get("Authorization", ""))
        if self.server.refuse:
            return self._reply(403, {"message": "Resource not accessible by integration"})
        path = self.path.split("?")[0]
        match = ITEM.match(path)
        if method == "GET" and path == COLLECTION:
            page = int(re.search(r"[?&]page=(\d+)", self.path).group(1))  # type: ignore[union-attr]
            items = [{"id": key, "body": body} for key, body in sorted(self.server.comments.items())]
            return self._reply(200, items[(page - 1) * 100:page * 100])
        if method == "POST" and path == COLLECTION:
            self.server.comments[self.server.next_id] = self._body()
            self.server.next_id += 1
            return self._reply(201, {"id": self.server.next_id - 1})
        if match and int(match.group(1)) in self.server.comments:
            if method == "PATCH":
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

    def do_DELETE(self) -> None:
        self._handle("DELETE")


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    server = FakeGitHub()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def post(server: FakeGitHub, reports: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GITHUB_API_URL": f"http://127.0.0.1:{server.server_address[1]}",
           "GITHUB_TOKEN": "secret-token", "GITHUB_REPOSITORY": "org/policies"}
    return subprocess.run(["python3", str(REPO / "ci" / "pr_comment.py"), "github", "--pr", "7", str(reports)],
                          capture_output=True, text=True, check=False, timeout=60, env=env)


def write_parts(reports: Path, parts: dict[str, list[str]]) -> None:
    for env, texts in parts.items():
        folder = reports / env
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.md"):
            old.unlink()
        for number, text in enumerate(texts, start=1):
            (folder / f"diff-{number:03}.md").write_text(text, encoding="utf-8")


def test_a_rerun_edits_the_earlier_comments_and_removes_parts_that_are_gone(github: FakeGitHub, tmp_path: Path) -> None:
    reports = tmp_path / "diff"
    write_parts(reports, {"dev": ["dev: no changes\n"], "prod": ["prod part 1\n", "prod part 2\n"]})
    first = post(github, reports)
    assert first.returncode == 0, first.stderr
    assert github.tokens == {"Bearer secret-token"}
    assert sorted(github.comments.values()) == sorted([
        "a human comment",
        "<!-- nvpolicy-diff env=dev part=1 -->\ndev: no changes\n",
        "<!-- nvpolicy-diff env=prod part=1 -->\nprod part 1\n",
        "<!-- nvpolicy-diff env=prod part=2 -->\nprod part 2\n",
    ])
    prod_one = next(key for key, body in github.comments.items() if "env=prod part=1" in body)

    write_parts(reports, {"dev": ["dev: no changes\n"], "prod": ["prod, now one part\n"]})
    second = post(github, reports)
    assert second.returncode == 0, second.stderr
    assert second.stdout.split() == ["update", str(prod_one), "delete", str(prod_one + 1)]
    assert github.comments[prod_one] == "<!-- nvpolicy-diff env=prod part=1 -->\nprod, now one part\n"
    assert len(github.comments) == 3 and github.comments[1] == "a human comment"
    assert post(github, reports).stdout == ""  # nothing changed: nothing posted


def test_a_read_only_token_is_reported_without_a_traceback(github: FakeGitHub, tmp_path: Path) -> None:
    write_parts(tmp_path / "diff", {"prod": ["prod part 1\n"]})
    github.refuse = True
    result = post(github, tmp_path / "diff")
    assert result.returncode == 1
    assert "403" in result.stderr and "Resource not accessible by integration" in result.stderr
    assert "read-only" in result.stderr and "Traceback" not in result.stderr
    assert github.comments == {1: "a human comment"}
