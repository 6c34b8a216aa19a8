"""Start-up imports only what the command uses (issue 16's cold start, bench/run.py ``cold_over_imports``).

Each case runs the installed console script as a process of its own, with Python's import log on
(``PYTHONPROFILEIMPORTTIME``): the modules it names are exactly what that start imported.
jsonschema (with referencing, rpds and the bundled metaschemas, ~40 ms) explains schema errors;
a valid file is answered by the compiled validator alone, so only a failing file may import it,
and then its message must be the one users always had.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from nvpolicy.cli import command_modules

from tests.conftest import NVPOLICY, REPO

# jsonschema's error machinery and what it pulls in.
JSONSCHEMA_STACK = ("jsonschema", "referencing", "rpds", "jsonschema_specifications")
# Libraries no command's help needs (each is imported by the commands that use them, when they run).
NOT_FOR_HELP = (*JSONSCHEMA_STACK, "yaml", "jinja2", "jsonschema_rs", "deepdiff", "ruamel", "re2", "pcre2")
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", re.MULTILINE)


def _run(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    env = {k: v for k, v in os.environ.items() if k != "NVPOLICY_DEBUG"}
    env["PYTHONPROFILEIMPORTTIME"] = "1"
    done = subprocess.run([str(NVPOLICY), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    modules = set(_IMPORTED.findall(done.stderr))
    assert "nvpolicy.cli" in modules, "the import log is missing: the check below would prove nothing"
    done.stderr = "\n".join(line for line in done.stderr.splitlines() if not line.startswith("import time:"))
    return done, modules


def _top_level(modules: set[str]) -> set[str]:
    return {name.split(".", 1)[0] for name in modules}


@pytest.fixture
def example(tmp_path: Path) -> Path:
    for folder in ("policies", "environments"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    return tmp_path


def test_render_of_valid_files_never_imports_jsonschema(example: Path) -> None:
    done, modules = _run("render", "--env", "prod", cwd=example)
    assert done.returncode == 0, done.stderr
    assert (example / "rendered" / "prod").is_dir()
    assert "jsonschema_rs" in _top_level(modules)  # the compiled check did run
    assert _top_level(modules).isdisjoint(JSONSCHEMA_STACK), sorted(_top_level(modules) & set(JSONSCHEMA_STACK))


def test_an_invalid_environment_file_gets_jsonschemas_message(example: Path) -> None:
    path = example / "environments" / "prod.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("policy_mode: Protect", "policy_mode: Sometimes"),
                    encoding="utf-8")
    done, modules = _run("render", "--env", "prod", cwd=example)
    assert done.returncode == 2
    assert done.stderr.strip() == ("environments/prod.yaml:5:14: error: 'Sometimes' is not one of "
                                   "['Discover', 'Monitor', 'Protect'] (at policy_mode)")
    assert "jsonschema" in _top_level(modules)
    assert not (example / "rendered").exists()


def test_an_object_failing_the_schema_gets_jsonschemas_message(example: Path) -> None:
    path = example / "policies" / "orders.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("path: /pause", "path: /pause\n      extra: 1"), encoding="utf-8")
    line = text.splitlines().index("      path: /pause") + 2
    done, modules = _run("render", "--env", "prod", cwd=example)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"policies/orders.yaml:{line}:14: error: unknown field 'extra' for NvSecurityRule: the API server prunes "
        "it [X1] [NvSecurityRule orders-prod/nv.orders.orders-prod] (at spec.process[1].extra)\n"
        "  hint: allowed fields: action, allow_update, name, path")
    assert "jsonschema" in _top_level(modules)


@pytest.mark.parametrize("command", ["", *sorted(command_modules())])
def test_help_imports_none_of_the_heavy_libraries(command: str, tmp_path: Path) -> None:
    done, modules = _run(*([command] if command else []), "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout
    heavy = _top_level(modules) & set(NOT_FOR_HELP)
    assert not heavy, f"nvpolicy {command} --help imports {sorted(heavy)}"
