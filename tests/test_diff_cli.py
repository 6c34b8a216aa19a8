"""``nvpolicy diff`` end to end: the real command, real git repositories, real output files."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import NVPOLICY, REPO, run_nvpolicy

ENVIRONMENTS = ("dev", "qa", "prod")


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_diff_of_an_environment_with_itself_is_empty(env: str, example_project: Path, tmp_path: Path) -> None:
    crds, lists = tmp_path / "crds", tmp_path / "lists"
    for out, layout in ((crds, "crds"), (lists, "list")):
        rendered = run_nvpolicy("-C", str(example_project), "render", "--env", env, "--format", layout,
                                "--out", str(out))
        assert rendered.returncode == 0, rendered.stderr
    same_tree = run_nvpolicy("diff", "--old", str(crds), "--new", str(lists), "--exit-code", "--format", "json")
    assert same_tree.returncode == 0, same_tree.stderr
    assert json.loads(same_tree.stdout)["objects"] == []
    against_self = run_nvpolicy("-C", str(example_project), "diff", "--env", env, "--against-env", env, "--exit-code")
    assert against_self.returncode == 0, against_self.stderr
    assert "no changes" in against_self.stdout


def test_exit_codes(example_project: Path, tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    run_nvpolicy("-C", str(example_project), "render", "--env", "prod", "--out", str(old))
    run_nvpolicy("-C", str(example_project), "render", "--env", "prod", "--set", "peers.db.port=5433",
                 "--out", str(new))
    assert run_nvpolicy("diff", "--old", str(old), "--new", str(new)).returncode == 0
    changed = run_nvpolicy("diff", "--old", str(old), "--new", str(new), "--exit-code")
    assert changed.returncode == 1, changed.stderr
    assert "tcp/5432 -> tcp/5433" in changed.stdout
    for bad in (["--old", str(old), "--new", str(tmp_path / "missing")],
                ["--old", str(old), "--new", str(new), "--format", "yaml"],
                ["--old", str(old)],
                ["--old", str(old), "--new", str(new), "--set", "peers.db.port=1"],
                ["--env", "prod", "--base", "HEAD", "--old", str(old), "--new", str(new)]):
        result = run_nvpolicy("diff", *bad, "--exit-code")
        assert result.returncode == 2, (bad, result.stdout, result.stderr)
        assert "error:" in result.stderr and "Traceback" not in result.stderr


def test_drift_between_environments_is_only_what_placeholders_do_not_explain() -> None:
    result = run_nvpolicy("diff", "--env", "qa", "--against-env", "prod", "--format", "json", "--exit-code")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    changes = [c for o in data["objects"] for c in o["changes"]]
    # qa's in-cluster postgres and prod's external address group map onto each other; the mode does not.
    assert [(c["change"], c["exposure"], c["subject"]) for c in changes] == [
        ("changed", "narrows", "target.policymode: Monitor -> Protect")]


def _run_on_tty(*args: str, extra_env: dict[str, str]) -> str:
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | extra_env
    with subprocess.Popen([str(NVPOLICY), *args], stdout=follower, stderr=subprocess.PIPE, cwd=REPO, env=env) as proc:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode()


def test_colour_only_on_a_tty_and_never_with_no_color() -> None:
    args = ("diff", "--env", "qa", "--against-env", "prod")
    assert "\x1b[" in _run_on_tty(*args, extra_env={})
    assert "\x1b[" not in _run_on_tty(*args, extra_env={"NO_COLOR": "1"})
    piped = run_nvpolicy(*args)
    assert piped.returncode == 0 and "\x1b[" not in piped.stdout and "narrows" in piped.stdout


def test_markdown_parts_stay_under_the_limit_and_split_between_tables(tmp_path: Path) -> None:
    from nvpolicy.emit import dump

    new = tmp_path / "new"
    for service in range(120):
        rules = [{"name": f"r{i}", "action": "allow", "ports": f"tcp/{1000 + i}", "applications": ["HTTP"],
                  "selector": {"name": f"nv.peer{i}.big", "criteria": [
                      {"key": "service", "op": "=", "value": f"peer{i}.big"},
                      {"key": "domain", "op": "=", "value": "big"}]}} for i in range(30)]
        obj = {"apiVersion": "neuvector.com/v1", "kind": "NvSecurityRule",
               "metadata": {"name": f"nv.svc{service}.big", "namespace": "big"},
               "spec": {"target": {"policymode": "Protect", "selector": {"name": f"nv.svc{service}.big", "criteria": [
                   {"key": "service", "op": "=", "value": f"svc{service}.big"},
                   {"key": "domain", "op": "=", "value": "big"}]}}, "egress": rules}}
        (new / "big").mkdir(parents=True, exist_ok=True)
        (new / "big" / f"nvsecurityrule-nv.svc{service}.big.yaml").write_text(dump(obj), encoding="utf-8")
    (tmp_path / "old").mkdir()
    out = tmp_path / "comment"
    result = run_nvpolicy("diff", "--old", str(tmp_path / "old"), "--new", str(new), "--format", "markdown",
                          "--max-chars", "20000", "--out", str(out))
    assert result.returncode == 0, result.stderr
    parts = sorted(out.iterdir())
    assert len(parts) > 5
    texts = [p.read_text(encoding="utf-8") for p in parts]
    seen: set[str] = set()
    for number, text in enumerate(texts, 1):
        assert len(text) <= 20000
        assert f"part {number} of {len(parts)}" in text
        assert text.count("<details") == text.count("</details>")
        # A table is never cut: every table in a part closes before its </details>.
        for block in re.findall(r"<details.*?</details>", text, flags=re.S):
            table = [line for line in block.splitlines() if line.startswith("|")]
            assert table[0].startswith("| change |") and table[1].startswith("|---")
        seen.update(re.findall(r"nv\.svc\d+\.big", text))
    assert len(seen) == 120  # every object made it into some part
    tiny = run_nvpolicy("diff", "--old", str(tmp_path / "old"), "--new", str(new), "--format", "markdown",
                        "--max-chars", "2000")
    assert tiny.returncode == 0, tiny.stderr
    tiny_parts = tiny.stdout.split("<!-- nvpolicy diff: part ")[1:]
    assert len(tiny_parts) > 100
    assert all(len("<!-- nvpolicy diff: part " + part) <= 2000 for part in tiny_parts)
    # A second run replaces the parts: no stale part survives; with no change there is no part at all
    # (CI then posts no comment for the environment).
    small = run_nvpolicy("diff", "--old", str(new), "--new", str(new), "--format", "markdown", "--out", str(out))
    assert small.returncode == 0 and list(out.iterdir()) == []


def test_base_renders_the_ref_and_leaves_worktree_and_index_alone(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    project = repo / "policy"  # the project is a subdirectory of the repository
    for folder in ("policies", "environments"):
        shutil.copytree(REPO / folder, project / folder)
    (project / "venv-link").symlink_to("/usr")  # committed links outside the inputs are not extracted
    _git(tmp_path, "init", "-q", str(repo))
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "base")
    orders = project / "policies" / "orders.yaml"
    orders.write_text(orders.read_text().replace("ports: udp/53", "ports: any"), encoding="utf-8")  # unstaged
    (project / "NOTES.md").write_text("untracked\n", encoding="utf-8")
    env_file = project / "environments" / "prod.yaml"
    env_file.write_text(env_file.read_text().replace("Protect", "Monitor"), encoding="utf-8")
    _git(repo, "add", str(env_file))  # staged
    status, index = _git(repo, "status", "--porcelain"), (repo / ".git" / "index").read_bytes()

    result = run_nvpolicy("-C", str(project), "diff", "--env", "prod", "--base", "HEAD", "--format", "json",
                          "--exit-code")
    assert result.returncode == 1, result.stderr
    changes = {(c["change"], c["exposure"], c["subject"]) for o in json.loads(result.stdout)["objects"]
               for c in o["changes"]}
    assert changes == {("changed", "widens", "allow egress to nv.kube-dns.kube-system any [DNS]"),
                       ("changed", "widens", "target.policymode: Protect -> Monitor")}
    assert _git(repo, "status", "--porcelain") == status
    assert (repo / ".git" / "index").read_bytes() == index
    assert "ports: any" in orders.read_text()
    assert not (project / "rendered").exists()
    bad = run_nvpolicy("-C", str(project), "diff", "--env", "prod", "--base", "no-such-ref")
    assert bad.returncode == 2 and "no such commit" in bad.stderr


def test_base_without_the_environment_shows_everything_added(tmp_path: Path) -> None:
    """A pull request that adds an environment (or the whole project) diffs against nothing, as CI runs
    `diff --base` for every environment of the working tree."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(tmp_path, "init", "-q", str(repo))
    (repo / "README.md").write_text("no project yet\n", encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "before the project")
    for folder in ("policies", "environments"):
        shutil.copytree(REPO / folder, repo / folder)
    no_project = run_nvpolicy("-C", str(repo), "diff", "--env", "prod", "--base", "HEAD", "--format", "json",
                              "--exit-code")
    assert no_project.returncode == 1, no_project.stderr
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "project")
    stage = repo / "environments" / "stage.yaml"
    stage.write_text("extends: _base\nnamespace: stage\n", encoding="utf-8")  # untracked
    result = run_nvpolicy("-C", str(repo), "diff", "--env", "stage", "--base", "HEAD", "--format", "json",
                          "--exit-code")
    assert result.returncode == 1, result.stderr
    assert "'stage' does not exist at HEAD" in result.stderr
    for data in (json.loads(result.stdout), json.loads(no_project.stdout)):
        assert data["old"].endswith("@HEAD (absent)")
        assert data["objects"] and {o["change"] for o in data["objects"]} == {"added"}
    # A mistyped environment is still an error, reported against the working tree.
    typo = run_nvpolicy("-C", str(repo), "diff", "--env", "stagee", "--base", "HEAD")
    assert typo.returncode == 2 and "'stagee' not found" in typo.stderr and "did you mean 'stage'" in typo.stderr
