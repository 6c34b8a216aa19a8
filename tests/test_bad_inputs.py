"""The bad-input corpus (``tests/bad_inputs/<case>/``): every case is refused cleanly, and nothing moves.

For each case: the expected exit code and message fragments, no traceback, at most one error
message, the pre-populated output directory and every other project file byte-identical
afterwards, no file created anywhere in the project, and a bounded peak memory (alias bombs
and generated values must be refused before they are built).
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import NVPOLICY

CORPUS = Path(__file__).parent / "bad_inputs"
BASE = CORPUS / "_base"
CASE_FILES = {"cmd", "expected", "setup"}
# An nvpolicy run needs ~40-60 MB; an alias bomb or a huge string built even once needs far more.
MAX_RSS_KB = 250 * 1024
TIME = Path("/usr/bin/time")
# An `expected` line `messages: N` allows N error messages (a capped list); one otherwise.
MESSAGES = "messages: "
OLD_OUTPUT = {
    "kustomization.yaml": "resources: [web/nvsecurityrule-nv.web.web.yaml]\n",
    "web/nvsecurityrule-nv.web.web.yaml": "# the previous render, which a failed run must leave alone\n",
}


def _cases() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if (p / "cmd").is_file())


def _snapshot(root: Path) -> dict[str, bytes | str]:
    """Every entry below root (files by content, directories and links by kind), to detect any write."""
    entries: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            key = path.relative_to(root).as_posix()
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                entries[key] = f"link->{os.readlink(path)}"
            elif stat.S_ISDIR(mode):
                entries[key] = f"dir {stat.S_IMODE(mode):o}"
            elif stat.S_ISREG(mode):
                entries[key] = path.read_bytes()
            else:  # a FIFO or socket a case planted: reading it would block
                entries[key] = f"special {stat.S_IFMT(mode):o}"
    return entries


def _setup(case: Path, project: Path, outside: Path) -> None:
    setup = case / "setup"
    if not setup.is_file():
        return
    for line in setup.read_text(encoding="utf-8").splitlines():
        directive, *args = shlex.split(line)
        if directive == "big-file":
            path, size = project / args[0], int(args[1])
            line_text = "# " + "x" * 97 + "\n"
            path.write_text("apiVersion: neuvector.com/v1\n" + line_text * (size // len(line_text)), encoding="utf-8")
        elif directive == "nested-json":  # PATH DEPTH: [[[...]]] DEPTH levels deep, and one event inside
            depth = int(args[1])
            (project / args[0]).write_text("[" * depth + "{}" + "]" * depth, encoding="utf-8")
        elif directive == "copies":
            source = (project / args[1]).read_text(encoding="utf-8")
            (project / args[0]).write_text("---\n".join([source] * int(args[2])), encoding="utf-8")
            (project / args[1]).unlink()
        elif directive == "symlink":
            target = outside / args[1].removeprefix("OUTSIDE/")
            target.write_text("apiVersion: neuvector.com/v1\nkind: NvSecurityRule\n", encoding="utf-8")
            (project / args[0]).symlink_to(target)
        elif directive == "link":
            _link(project / args[0], args[1], outside)
        elif directive == "fifo":
            os.mkfifo(project / args[0])
        elif directive == "socket":
            with socket.socket(socket.AF_UNIX) as server:
                server.bind(str(project / args[0]))
        else:
            raise AssertionError(f"{case.name}/setup: unknown directive {directive!r}")


def _link(path: Path, target: str, outside: Path) -> None:
    """``link PATH TARGET``: PATH (whatever was there is removed) becomes a symlink to TARGET, taken
    literally, or to a folder made outside the project (holding one file) for ``OUTSIDE/NAME``."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if target.startswith("OUTSIDE/"):
        folder = outside / target.removeprefix("OUTSIDE/")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "keep.yaml").write_text("kind: NvSecurityRule\n", encoding="utf-8")
        path.symlink_to(folder, target_is_directory=True)
    else:
        path.symlink_to(target)


def _run(project: Path, args: list[str], rss_file: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NVPOLICY_DEBUG"}
    command = [str(NVPOLICY), "-C", str(project), *args]
    if TIME.exists():
        command = [str(TIME), "-o", str(rss_file), "-f", "%M", *command]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("case", _cases())
def test_bad_input_is_refused_cleanly(case: str, tmp_path: Path) -> None:
    source = CORPUS / case
    project, outside = tmp_path / "project", tmp_path / "outside"
    outside.mkdir()
    shutil.copytree(BASE, project, symlinks=True)
    shutil.copytree(source, project, symlinks=True, dirs_exist_ok=True,
                    ignore=lambda _folder, names: [n for n in names if n in CASE_FILES])
    for relative, text in OLD_OUTPUT.items():
        (project / "rendered" / "test" / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / "rendered" / "test" / relative).write_text(text, encoding="utf-8")
    _setup(source, project, outside)
    before, outside_before = _snapshot(project), _snapshot(outside)

    args = shlex.split((source / "cmd").read_text(encoding="utf-8"))
    result = _run(project, args, tmp_path / "rss")

    code, *lines = (source / "expected").read_text(encoding="utf-8").splitlines()
    counts = [line for line in lines if line.startswith(MESSAGES)]
    messages = int(counts[0].removeprefix(MESSAGES)) if counts else 1
    fragments = [line for line in lines if line and not line.startswith(MESSAGES)]
    assert result.returncode == int(code), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, f"missing {fragment!r} in:\n{result.stderr}"
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("error:") == messages, f"expected {messages} error message(s):\n{result.stderr}"
    assert not (project / "pwned").exists(), "a payload was executed"
    assert _snapshot(project) == before, "the project changed"
    assert _snapshot(outside) == outside_before
    if TIME.exists():
        peak_kb = int((tmp_path / "rss").read_text(encoding="utf-8").split()[-1])
        assert peak_kb < MAX_RSS_KB, f"peak memory {peak_kb} kB"


def test_corpus_covers_enough_cases() -> None:
    assert len(_cases()) >= 40
