"""nvpolicy as a team installs it: the wheel in a fresh venv outside this repo, `nvpolicy init`, then
every step of both CI pipelines and the pre-commit hook, run as the runners run them.

The wheel is built with PyPA build from a copy of the sources; the venv has nothing but the wheel
and its dependencies, so anything the tool needs and the wheel lacks (schemas, templates, the
example) fails here. Pipelines run in a clone of the init'ed repo whose `origin` is a local bare repo
(the pull request's base is origin/main); forge APIs are a fake on 127.0.0.1; the deploy repo URLs
of the templates are rewritten to local bare repos with git's own `url.<base>.insteadOf`, in the
runner's HOME, so the templates' clone and push lines run unchanged.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml
from nvpolicy import __version__

from tests.conftest import REPO
from tests.fake_forge import FakeForge, running
from tests.publish_helpers import GIT_ENV, git

GITHUB_TOKEN = "gh-secret-token"
DEPLOY_TOKEN = "deploy-secret-token"


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None,
         timeout: int = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, timeout=timeout,
                          env={**os.environ, **(env or {})})
    assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel PyPA build makes of a copy of the sources (the checkout itself stays clean)."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for folder in ("compiler", "schemas", "policies", "environments", "expect"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, source / folder, symlinks=True, ignore=ignore)
    _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(root / "dist"), str(source)],
         root)
    return next((root / "dist").glob(f"nvpolicy-{__version__}-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a fresh venv with only the wheel (and its dependencies) installed."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], venv.parent)
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], venv.parent, timeout=600)
    return venv / "bin"


@pytest.fixture(scope="module")
def runner(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a CI runner: the installed nvpolicy first on PATH, a HOME of its own."""
    home = tmp_path_factory.mktemp("home")
    remotes = tmp_path_factory.mktemp("remotes")
    for name in ("github-deploy", "gitlab-deploy"):
        git(remotes, "init", "-q", "--bare", "-b", "main", str(remotes / f"{name}.git"))
    (home / ".gitconfig").write_text(
        "[user]\n\tname = CI Runner\n\temail = runner@example.com\n"
        f'[url "{(remotes / "github-deploy.git").as_uri()}"]\n'
        f"\tinsteadOf = https://x-access-token:{DEPLOY_TOKEN}@github.com/org/deploy.git\n"
        f'[url "{(remotes / "gitlab-deploy.git").as_uri()}"]\n'
        f"\tinsteadOf = https://oauth2:{DEPLOY_TOKEN}@gitlab.example.com/org/deploy.git\n",
        encoding="utf-8")
    identity = {key: value for key, value in GIT_ENV.items() if key != "GIT_CONFIG_GLOBAL"}  # HOME's config counts
    return {**identity, "HOME": str(home), "PATH": f"{installed}{os.pathsep}{os.environ['PATH']}",
            "REMOTES": str(remotes), "PYTHONDONTWRITEBYTECODE": "1"}


@pytest.fixture(scope="module")
def origin(runner: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The team's policy repo on the forge: `nvpolicy init` committed on main, and a pull request branch
    that changes only prod (its managed database moves to another host; the policy tests still pass)."""
    root = tmp_path_factory.mktemp("forge")
    work = root / "laptop"
    done = _run(["nvpolicy", "init", str(work)], root, runner)
    assert f"for nvpolicy {__version__}" in done.stdout
    git(work, "init", "-q", "-b", "main")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "nvpolicy init")
    bare = root / "policies.git"
    git(root, "clone", "-q", "--bare", str(work), str(bare))
    git(work, "remote", "add", "origin", str(bare))
    git(work, "switch", "-q", "-c", "feature")
    prod = work / "environments" / "prod.yaml"
    text = prod.read_text(encoding="utf-8")
    assert "url-to-my-external-db.com" in text
    prod.write_text(text.replace("url-to-my-external-db.com", "orders-db.prod.example.com"), encoding="utf-8")
    git(work, "commit", "-q", "-am", "prod: the managed database moved")
    git(work, "push", "-q", "origin", "feature")
    return bare


def checkout(origin: Path, branch: str, where: Path) -> Path:
    """What actions/checkout (fetch-depth 0) and GitLab's GIT_DEPTH 0 leave: a clone at the branch."""
    git(where.parent, "clone", "-q", "-b", branch, str(origin), str(where))
    return where


def test_the_wheel_ships_what_the_tool_needs(installed: Path, tmp_path: Path) -> None:
    done = _run([str(installed / "nvpolicy"), "--version"], tmp_path)
    assert done.stdout.strip() == f"nvpolicy {__version__}"
    schema = _run([str(installed / "nvpolicy"), "schema", "environment"], tmp_path)
    assert json.loads(schema.stdout)["title"] == "nvpolicy environment file"
    assert "nvpolicy" not in {p.name for p in tmp_path.iterdir()}  # nothing of this repo is reachable from here


def test_init_writes_a_repo_that_renders_and_never_overwrites(runner: dict[str, str], tmp_path: Path) -> None:
    _run(["nvpolicy", "init", "repo"], tmp_path, runner)
    repo = tmp_path / "repo"
    header = (repo / "environments" / "prod.yaml").read_text(encoding="utf-8").splitlines()[0]
    target = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", header)
    assert target and (repo / "environments" / target.group(1)).resolve().is_file()  # the header resolves
    pins = [repo / ".github/workflows/nvpolicy.yml", repo / ".gitlab-ci.yml", repo / ".pre-commit-config.yaml"]
    for path in pins:
        assert f"{__version__}" in path.read_text(encoding="utf-8") and "@NVPOLICY" not in path.read_text()
    assert {"rendered/", "reports/", ".venv/"} <= set((repo / ".gitignore").read_text().splitlines())
    _run(["nvpolicy", "render", "--all"], repo, runner)
    assert sorted(p.name for p in (repo / "rendered").iterdir()) == ["dev", "prod", "qa"]
    before = (repo / "policies" / "orders.yaml").read_bytes()
    (repo / "policies" / "orders.yaml").write_text("# ours\n", encoding="utf-8")
    again = subprocess.run(["nvpolicy", "init", "repo"], cwd=tmp_path, capture_output=True, text=True,
                           env={**os.environ, **runner}, check=False)
    assert again.returncode == 2 and "would overwrite" in again.stderr and "--force" in again.stderr
    assert (repo / "policies" / "orders.yaml").read_text() == "# ours\n"
    _run(["nvpolicy", "init", "repo", "--force"], tmp_path, runner)
    assert (repo / "policies" / "orders.yaml").read_bytes() == before


class GitHubRunner:
    """Runs a workflow job's `run:` steps as GitHub's runner does; `uses:` steps are checked, not run."""

    def __init__(self, workflow: dict[str, Any], job: str, cwd: Path, env: dict[str, str],
                 contexts: dict[str, str]) -> None:
        self.workflow, self.job, self.cwd, self.env, self.contexts = workflow, job, cwd, env, contexts
        self.outputs: dict[str, dict[str, str]] = {}

    def expression(self, text: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            step = re.fullmatch(r"steps\.(\w+)\.outputs\.(\w+)", name)
            if step:
                return self.outputs.get(step.group(1), {}).get(step.group(2), "")
            assert name in self.contexts, f"the workflow uses ${{{{ {name} }}}}, unknown to this test"
            return self.contexts[name]
        return re.sub(r"\$\{\{(.*?)\}\}", value, text)

    def condition(self, text: str) -> bool:
        if text.strip() == "always()":  # the runs here stop at the first failing step anyway
            return True
        compared = re.fullmatch(r"(.+?)\s*(==|!=)\s*'(.*)'", text.strip())
        assert compared, f"condition {text!r} is not one this test evaluates"
        left = self.expression("${{ " + compared.group(1) + " }}")
        return (left == compared.group(3)) == (compared.group(2) == "==")

    def run(self, tmp: Path) -> list[dict[str, Any]]:
        job = self.workflow["jobs"][self.job]
        base_env = {k: self.expression(str(v)) for k, v in {**self.workflow.get("env", {}),
                                                              **job.get("env", {})}.items()}
        used = []
        for number, step in enumerate(job["steps"]):
            if "if" in step and not self.condition(step["if"]):
                continue
            if "uses" in step:
                used.append(step)
                continue
            output = tmp / f"github-output-{self.job}-{number}"
            output.touch()
            env = {**self.env, **base_env, "GITHUB_OUTPUT": str(output),
                   **{k: self.expression(str(v)) for k, v in step.get("env", {}).items()}}
            done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                                   self.expression(step["run"])], cwd=self.cwd, capture_output=True, text=True,
                                  check=False, timeout=300, env={**os.environ, **env})
            assert done.returncode == 0, f"step {step.get('name')}:\n{done.stdout}\n{done.stderr}"
            assert "Traceback" not in done.stderr
            if "id" in step:
                lines = output.read_text(encoding="utf-8").splitlines()
                self.outputs[step["id"]] = dict(line.split("=", 1) for line in lines if "=" in line)
        return used


@pytest.fixture
def github_api() -> Iterator[FakeForge]:
    with running("github") as server:
        yield server


@pytest.fixture
def gitlab_api() -> Iterator[FakeForge]:
    with running("gitlab") as server:
        yield server


def _comments(server: FakeForge) -> dict[str, str]:
    found = {}
    for body in server.comments.values():
        marker = re.match(r"<!-- nvpolicy-diff env=(\S+) part=1 -->", body)
        if marker:
            found[marker.group(1)] = body
    return found


def test_github_pull_request_and_publish_jobs(origin: Path, runner: dict[str, str], github_api: FakeForge,
                                              tmp_path: Path) -> None:
    workflow = yaml.safe_load((origin.parent / "laptop" / ".github" / "workflows" / "nvpolicy.yml").read_text())
    contexts = {"github.base_ref": "main", "github.event.pull_request.number": "7",
                "secrets.GITHUB_TOKEN": GITHUB_TOKEN, "secrets.DEPLOY_TOKEN": DEPLOY_TOKEN,
                "vars.DEPLOY_REPOSITORY": "org/deploy"}
    env = {**runner, "GITHUB_API_URL": github_api.url, "GITHUB_REPOSITORY": "org/policies"}
    (tmp_path / "pr").mkdir()
    pr = checkout(origin, "feature", tmp_path / "pr" / "policies")
    used = GitHubRunner(workflow, "check", pr, env, contexts).run(tmp_path)
    assert [step["uses"].split("@")[0] for step in used] == [
        "actions/checkout", "actions/setup-python", "actions/upload-artifact", "github/codeql-action/upload-sarif",
        "actions/upload-artifact"]
    assert sorted(p.name for p in (pr / "rendered").iterdir()) == ["dev", "prod", "qa"]  # the artifact
    # The policy tests (none yet in a new repo: a pass) and the HTML report artifact.
    assert ElementTree.parse(pr / "reports" / "nvpolicy-tests.xml").getroot().tag == "testsuites"
    assert sorted(p.name for p in (pr / "reports" / "html").iterdir()) == ["dev.html", "prod.html", "qa.html"]
    sarif = sorted((pr / "reports" / "sarif").glob("*.sarif"))
    assert [p.stem for p in sarif] == ["dev", "prod", "qa"]
    for path in sarif:
        assert json.loads(path.read_text())["runs"][0]["automationDetails"]["id"] == f"nvpolicy/{path.stem}/"
    comments = _comments(github_api)
    assert list(comments) == ["prod"], "only the environment the pull request changes gets a comment"
    assert "orders-db.prod.example.com" in comments["prod"]
    assert github_api.tokens == {f"Bearer {GITHUB_TOKEN}"}

    (tmp_path / "main").mkdir()
    main = checkout(origin, "main", tmp_path / "main" / "policies")
    GitHubRunner(workflow, "publish", main, env, contexts).run(tmp_path)
    deploy = Path(runner["REMOTES"]) / "github-deploy.git"
    files = git(deploy, "ls-tree", "-r", "--name-only", "main").split()
    assert {"dev/kustomization.yaml", "prod/kustomization.yaml", "qa/kustomization.yaml"} <= set(files)
    assert "publish" in git(deploy, "log", "-1", "--format=%B", "main").lower() or files


def test_gitlab_merge_request_and_publish_jobs(origin: Path, runner: dict[str, str], gitlab_api: FakeForge,
                                               tmp_path: Path) -> None:
    pipeline = yaml.safe_load((origin.parent / "laptop" / ".gitlab-ci.yml").read_text())
    (tmp_path / "mr").mkdir()
    mr = checkout(origin, "feature", tmp_path / "mr" / "policies")
    variables = {"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_MERGE_REQUEST_IID": "7",
                 "CI_API_V4_URL": gitlab_api.url, "CI_PROJECT_ID": "1", "NVPOLICY_GITLAB_TOKEN": "gl-token",
                 "DEPLOY_TOKEN": DEPLOY_TOKEN, "DEPLOY_REPO_URL": "https://gitlab.example.com/org/deploy.git",
                 "CI_PROJECT_PATH": "org/policies", "CI_SERVER_HOST": "gitlab.example.com"}

    def job(name: str, cwd: Path) -> None:
        spec = pipeline[name]
        env = {**runner, **variables}
        for key, value in {**pipeline.get("variables", {}), **spec.get("variables", {})}.items():
            env[key] = re.sub(r"\$(\w+)", lambda m: env.get(m.group(1), ""), str(value))
        script = "\n".join(spec["script"])  # GitLab runs a job's script lines in one shell
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd,
                              capture_output=True, text=True, check=False, timeout=600, env={**os.environ, **env})
        assert done.returncode == 0, f"{name}:\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr

    job("check", mr)
    report = json.loads((mr / "gl-code-quality-report.json").read_text())
    assert isinstance(report, list)
    assert set(pipeline["check"]["artifacts"]["paths"]) == {"rendered/", "reports/"}
    assert list(_comments(gitlab_api)) == ["prod"]
    assert gitlab_api.tokens == {"gl-token"}

    (tmp_path / "main").mkdir()
    main = checkout(origin, "main", tmp_path / "main" / "policies")
    job("publish", main)
    deploy = Path(runner["REMOTES"]) / "gitlab-deploy.git"
    files = set(git(deploy, "ls-tree", "-r", "--name-only", "main").split())
    assert {"dev/kustomization.yaml", "prod/kustomization.yaml", "qa/kustomization.yaml"} <= files


def test_pre_commit_hook_lints_with_the_pinned_nvpolicy(origin: Path, runner: dict[str, str], wheel: Path,
                                                        tmp_path: Path) -> None:
    """`pre-commit run` installs nvpolicy==<version> into its own hook venv (from the wheel's folder, as a
    team's package index would serve it) and lints every environment."""
    repo = checkout(origin, "main", tmp_path / "policies")
    env = {**runner, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PIP_FIND_LINKS": str(wheel.parent)}
    pre_commit = [str(REPO / ".venv" / "bin" / "pre-commit"), "run", "--all-files"]
    done = subprocess.run(pre_commit, cwd=repo, capture_output=True, text=True, check=False, timeout=600,
                          env={**os.environ, **env})
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"nvpolicy lint \(every environment\)\.+Passed", done.stdout), done.stdout
    orders = repo / "policies" / "orders.yaml"
    orders.write_text(orders.read_text().replace("ports: udp/53", "ports: any"), encoding="utf-8")
    failing = subprocess.run(pre_commit, cwd=repo, capture_output=True, text=True, check=False, timeout=600,
                             env={**os.environ, **env})
    assert failing.returncode == 1 and "any-ports" in failing.stdout, failing.stdout + failing.stderr
