"""Exports are data: ``import`` and ``import --merge`` write labels, annotations, keys and values so that
they render to exactly their text, and the header comment names the export on one printable line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from nvpolicy.source import load_file, load_text

from tests.conftest import run_nvpolicy
from tests.import_helpers import SEED_EXPORT, export_items

NS = "feature-6293"
LABELS = {"{{ vars.secret }}": "{% raw %}{{ env }}{% endraw %}", "team": "{{ env }}", "app/{#": "#}",
          "yes": "1:20"}
ANNOTATIONS = {"note": "{% if true %}x{% endif %}", "on": "~", "multi": "a\n{{ namespace }}\r\nb"}
PROCESSES = [{"action": "allow", "name": "{{ vars.secret }}", "path": "/tmp/{{ namespace }}"},
             {"action": "allow", "name": "yes", "path": "/usr/bin/{% now 'utc' %}"},
             {"action": "allow", "name": "0x10", "path": "/bin/{#"}]


def _export(tmp_path: Path, name: str = "export.yaml") -> Path:
    items = export_items(SEED_EXPORT.read_text(encoding="utf-8"))
    orders = items[0]
    orders["metadata"]["labels"] = dict(LABELS)
    orders["metadata"]["annotations"] = dict(ANNOTATIONS)
    orders["spec"]["process"] = orders["spec"]["process"] + PROCESSES
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}), encoding="utf-8")
    return path


def _orders(project: Path, env: str) -> dict[str, Any]:
    out = project / "rendered" / env
    result = run_nvpolicy("-C", str(project), "render", "--env", env, "--out", str(out))
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = load_file(next(out.rglob("nvsecurityrule-nv.orders.*.yaml")))[0].data
    return data


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "policies").mkdir(parents=True)
    (root / "environments").mkdir()
    return root


@pytest.mark.parametrize("lifted", [True, False])
def test_imported_keys_and_values_render_to_their_text(tmp_path: Path, lifted: bool) -> None:
    project = _project(tmp_path)
    scope = ["-n", NS, "--env-out", "environments/dev.yaml"] if lifted else []
    result = run_nvpolicy("-C", str(project), "import", str(_export(tmp_path)), *scope)
    assert result.returncode == 0, result.stderr
    if not lifted:
        (project / "environments" / "dev.yaml").write_text(f"namespace: {NS}\npolicy_mode: Discover\n")
    # prod: other names in scope (vars.secret, another namespace) that a template would pick up.
    (project / "environments" / "prod.yaml").write_text(
        "extends: dev\nnamespace: prod\npolicy_mode: Protect\nvars: {secret: LEAKED}\n")
    for env in ("dev", "prod"):
        orders = _orders(project, env)
        assert orders["metadata"]["labels"] == LABELS
        assert orders["metadata"]["annotations"] == ANNOTATIONS
        assert [rule for rule in orders["spec"]["process"] if rule in PROCESSES] == PROCESSES


def test_merge_writes_yaml_1_1_lookalikes_quoted(tmp_path: Path) -> None:
    project = _project(tmp_path)
    first = run_nvpolicy("-C", str(project), "import", str(SEED_EXPORT), "-n", NS, "--env-out",
                         "environments/dev.yaml")
    assert first.returncode == 0, first.stderr
    merged = run_nvpolicy("-C", str(project), "import", str(_export(tmp_path)), "-n", NS, "--merge",
                          "--env-out", "environments/dev.yaml")
    assert merged.returncode in (0, 1), merged.stderr
    orders = _orders(project, "dev")
    assert [rule for rule in orders["spec"]["process"] if rule in PROCESSES] == PROCESSES
    assert "name: 'yes'" in (project / "policies" / "orders.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["ex\nport: injected\r#.yaml", "ex\u2028port\x85: x\x1b[2J.yaml"])
def test_the_header_comment_names_the_export_on_one_printable_line(tmp_path: Path, name: str) -> None:
    project = _project(tmp_path)
    _export(project, name)
    result = run_nvpolicy("-C", str(project), "import", name, "-n", NS, "--env-out", "environments/dev.yaml")
    assert result.returncode == 0, result.stderr
    for path in [*sorted((project / "policies").glob("*.yaml")), project / "environments" / "dev.yaml"]:
        text = path.read_text(encoding="utf-8")
        # The environment file starts with its schema header; the comment naming the export follows.
        comments = [line for line in text.split("\n") if line.startswith("#") and "yaml-language-server" not in line]
        first = comments[0]
        assert first.startswith("# ") and first.isprintable() and ("\\n" in first or "\\u2028" in first)
        documents = load_text(text, path.name)
        assert all("port" not in document.data for document in documents)


def test_the_header_comment_never_holds_an_absolute_path_of_this_machine(tmp_path: Path) -> None:
    project = _project(tmp_path)
    outside = _export(tmp_path, "outside-export.yaml")
    inside = _export(project, "inside-export.yaml")
    result = run_nvpolicy("-C", str(project), "import", str(outside), str(inside.resolve()), "-n", NS)
    assert result.returncode == 0, result.stderr
    header = (project / "policies" / "orders.yaml").read_text(encoding="utf-8").split("\n", 1)[0]
    assert header == ("# Imported by nvpolicy import from outside-export.yaml, inside-export.yaml, "
                      f"namespace {NS} lifted.")
    assert str(tmp_path) not in header


def test_an_address_group_with_template_syntax_stays_literal_and_out_of_the_environment_file(tmp_path: Path) -> None:
    items = export_items(SEED_EXPORT.read_text(encoding="utf-8"))
    items[0]["spec"]["egress"].append({
        "action": "allow", "name": "ext-egress-9", "ports": "tcp/443", "priority": 0,
        "selector": {"name": "ext-evil", "criteria": [{"key": "address", "op": "=", "value": "{{ vars.secret }}.io"}]}})
    export = tmp_path / "export.yaml"
    export.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}), encoding="utf-8")
    project = _project(tmp_path)
    result = run_nvpolicy("-C", str(project), "import", str(export), "-n", NS, "--env-out", "environments/dev.yaml")
    assert result.returncode == 0, result.stderr
    assert "vars.secret" not in (project / "environments" / "dev.yaml").read_text(encoding="utf-8")
    rendered = run_nvpolicy("-C", str(project), "render", "--env", "dev", "--out", str(tmp_path / "out"))
    assert rendered.returncode == 2
    assert "address '{{ vars.secret }}.io' is not usable" in rendered.stderr


@pytest.mark.parametrize("container", ["{{ vars.secret }}", "a/../b", "Upper"])
def test_a_declared_container_name_must_be_a_dns_label(tmp_path: Path, container: str) -> None:
    project = _project(tmp_path)
    (project / "containers.yaml").write_text(yaml.safe_dump({"containers": {container: ["java"]}}), encoding="utf-8")
    result = run_nvpolicy("-C", str(project), "import", str(SEED_EXPORT), "-n", NS, "--containers", "containers.yaml")
    assert result.returncode == 2
    assert "is not a DNS-1123 label" in result.stderr and "Traceback" not in result.stderr
    assert list((project / "policies").iterdir()) == []


def test_a_file_name_that_resolves_outside_the_folder_is_refused(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "policies" / "orders.yaml").symlink_to(tmp_path / "elsewhere.yaml")  # dangling: exists() is False
    result = run_nvpolicy("-C", str(project), "import", str(SEED_EXPORT), "-n", NS)
    assert result.returncode == 2, result.stderr
    assert "refusing to write 'orders.yaml': it is not a file directly in" in result.stderr
    assert not (tmp_path / "elsewhere.yaml").exists()
    assert sorted(path.name for path in (project / "policies").iterdir()) == ["orders.yaml"]
