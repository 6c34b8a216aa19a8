"""Real git repositories for the publish tests: a policy project under git, a deploy repo, a bare remote."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from tests.conftest import run_nvpolicy

# A fixed identity and no user/system config, so the tests behave the same on every machine.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Publish Test", "GIT_AUTHOR_EMAIL": "publish@example.test",
    "GIT_COMMITTER_NAME": "Publish Test", "GIT_COMMITTER_EMAIL": "publish@example.test",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=False,
                          env={**os.environ, **GIT_ENV})
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def init_repo(path: Path, files: Mapping[str, str] | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    for relative, text in (files or {}).items():
        (path / relative).parent.mkdir(parents=True, exist_ok=True)
        (path / relative).write_text(text, encoding="utf-8")
    if files:
        commit_all(path, "initial")
    return path


def commit_all(path: Path, message: str) -> None:
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", message)


def publish(source: Path, deploy: Path, *args: str, env: str = "dev",
            extra_env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_nvpolicy("-C", str(source), "publish", "--env", env, "--repo", str(deploy), *args,
                        env={**GIT_ENV, **(extra_env or {})})


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD")


def commit_count(repo: Path) -> int:
    return int(git(repo, "rev-list", "--count", "HEAD"))


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".nvpolicy-publish."))
