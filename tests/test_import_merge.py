"""``--merge``: a second import adds what is new, never duplicates, and reports (never overwrites) hand edits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from nvpolicy.learn.merge import merge_object

from tests.conftest import run_nvpolicy, tree_bytes
from tests.import_helpers import SEED_EXPORT, export_items

NS = "feature-6293"


def _second_export(tmp_path: Path) -> Path:
    """A later export: orders has also learned Redis to a redis service and runs sh."""
    items = export_items(SEED_EXPORT.read_text(encoding="utf-8"))
    orders = items[0]
    orders["spec"]["egress"].append({
        "action": "allow", "applications": ["Redis"], "name": f"nv.redis.{NS}-egress-7", "ports": "any",
        "priority": 0, "selector": {"name": f"nv.redis.{NS}", "criteria": [
            {"key": "service", "op": "=", "value": f"redis.{NS}"}, {"key": "domain", "op": "=", "value": NS}]},
    })
    orders["spec"]["process"].append({"action": "allow", "name": "sh", "path": "/bin/sh"})
    path = tmp_path / "export-2.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "policies").mkdir(parents=True)
    result = run_nvpolicy("-C", str(root), "import", str(SEED_EXPORT), "-n", NS, "--env-out", "environments/dev.yaml")
    assert result.returncode == 0, result.stderr
    return root


def _egress(path: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load(path.read_text(encoding="utf-8"))["spec"]["egress"])


def test_reimporting_the_same_export_changes_nothing(project: Path) -> None:
    before = tree_bytes(project)
    result = run_nvpolicy("-C", str(project), "import", str(SEED_EXPORT), "-n", NS, "--merge",
                          "--env-out", "environments/dev.yaml")
    assert result.returncode == 0, result.stderr
    assert "orders.yaml: NvSecurityRule nv.orders.{{ namespace }}: nothing new (4 already present)" in result.stdout
    assert tree_bytes(project) == before


def test_merge_adds_new_rules_once_and_reports_a_hand_edit(project: Path, tmp_path: Path) -> None:
    orders = project / "policies" / "orders.yaml"
    edited = orders.read_text(encoding="utf-8").replace(
        "ports: tcp/{{ peers.postgres.port }}", "ports: tcp/6432  # pgbouncer, not the database port")
    edited = edited.replace("spec:\n", "spec:\n  # reviewed by the platform team\n", 1)
    orders.write_text(edited, encoding="utf-8")
    export = _second_export(tmp_path)

    for _ in range(2):  # a second run must not duplicate anything either
        result = run_nvpolicy("-C", str(project), "import", str(export), "-n", NS, "--merge",
                              "--env-out", "environments/dev.yaml")
        assert result.returncode == 1, result.stderr  # 1: conflicts were reported
        assert "egress rule 'orders-to-postgres': yours differs" in result.stdout
        assert "(kept yours)" in result.stdout

    text = orders.read_text(encoding="utf-8")
    assert "# pgbouncer, not the database port" in text and "# reviewed by the platform team" in text
    egress = _egress(orders)
    assert [rule["name"] for rule in egress] == ["orders-to-postgres", "orders-to-kube-dns", "orders-to-redis"]
    assert egress[0]["ports"] == "tcp/6432"
    assert egress[2] == {"name": "orders-to-redis", "action": "allow", "applications": ["Redis"],
                         "ports": "tcp/{{ peers.redis.port }}", "selector": '{{ peer("redis") }}'}
    processes = yaml.safe_load(text)["spec"]["process"]
    assert [p["name"] for p in processes] == ["java", "pause", "sh"]
    environment = yaml.safe_load((project / "environments" / "dev.yaml").read_text(encoding="utf-8"))
    assert environment["peers"] == {"postgres": {"service": "postgres", "port": 5432},
                                    "redis": {"service": "redis", "port": 6379}}
    rendered = run_nvpolicy("-C", str(project), "render", "--env", "dev", "--out", str(tmp_path / "out"))
    assert rendered.returncode == 0, rendered.stderr


def test_merge_keeps_an_object_where_the_user_moved_it(project: Path) -> None:
    policies = project / "policies"
    (policies / "orders.yaml").rename(policies / "shop.yaml")
    result = run_nvpolicy("-C", str(project), "import", str(SEED_EXPORT), "-n", NS, "--merge")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in policies.iterdir()) == ["postgres.yaml", "shop.yaml"]


def test_env_file_conflict_is_reported_and_kept(project: Path) -> None:
    env = project / "environments" / "dev.yaml"
    env.write_text("# my dev\nnamespace: dev\npolicy_mode: Monitor\n", encoding="utf-8")
    result = run_nvpolicy("-C", str(project), "import", str(SEED_EXPORT), "-n", NS, "--merge",
                          "--env-out", "environments/dev.yaml")
    assert result.returncode == 1
    assert "namespace is dev, the export's is feature-6293 (kept yours)" in result.stdout
    text = env.read_text(encoding="utf-8")
    assert text.startswith("# my dev\nnamespace: dev\npolicy_mode: Monitor\n")
    assert yaml.safe_load(text)["peers"] == {"postgres": {"service": "postgres", "port": 5432}}
    # The lint settings the import writes are added where the file has none, and yours are never touched.
    assert yaml.safe_load(text)["lint"]["rules"]["allowed-policy-mode"]["options"]["allowed"] == [
        "Discover", "Monitor", "Protect"]
    env.write_text("namespace: dev\npolicy_mode: Monitor\nlint: {rules: {any-ports: {level: off}}}\n", encoding="utf-8")
    again = run_nvpolicy("-C", str(project), "import", str(SEED_EXPORT), "-n", NS, "--merge",
                         "--env-out", "environments/dev.yaml")
    assert again.returncode == 1 and "lint" not in again.stdout
    assert "lint: {rules: {any-ports: {level: off}}}\n" in env.read_text(encoding="utf-8")


def test_merge_object_plans_on_plain_data() -> None:
    rule = {"name": "a-to-b", "action": "allow", "applications": ["HTTP"], "ports": "tcp/80", "selector": "s"}
    renamed = {**rule, "name": "my-name"}
    plan = merge_object({"spec": {"egress": [renamed]}}, {"spec": {"egress": [rule, {**rule, "selector": "t"}]}})
    assert plan.skipped == 1 and not plan.conflicts  # same traffic under another name: already there
    assert plan.additions == {"egress": [{**rule, "selector": "t", "name": "a-to-b"}]}
    clash = merge_object({"spec": {"egress": [{**rule, "selector": "x"}]}}, {"spec": {"egress": [rule]}})
    assert clash.additions["egress"][0]["name"] == "a-to-b-imported"
    # A re-import (whole objects): the rule of that name, which the import no longer brings, was edited.
    edited = merge_object({"spec": {"egress": [{**rule, "selector": "x"}]}}, {"spec": {"egress": [rule]}},
                          protect_edits=True)
    assert not edited.additions and edited.conflicts == [
        "egress rule 'a-to-b': yours differs from the imported {'name': 'a-to-b', 'action': 'allow', "
        "'ports': 'tcp/80'} (kept yours)"]


def test_merge_into_the_hand_written_example_keeps_its_style(example_project: Path) -> None:
    orders = example_project / "policies" / "orders.yaml"
    before = orders.read_text(encoding="utf-8")
    result = run_nvpolicy("-C", str(example_project), "import", str(SEED_EXPORT), "-n", NS, "--merge")
    assert result.returncode == 1  # the example's postgres policy has its own when:, reported as a conflict
    # service('orders') by hand and service("orders") imported are one selector, not a conflict.
    assert "spec.target differs" not in result.stdout
    assert "postgres.yaml: NvSecurityRule nv.postgres.{{ namespace }}: when differs" in result.stdout
    after = orders.read_text(encoding="utf-8")
    assert after.startswith(before.split("  process:\n")[0])  # comments, flow style and quotes untouched
    assert "    - name: orders-to-postgres\n      action: allow\n" in after  # its indentation style


def test_merge_reports_a_flipped_action_or_an_edited_path_instead_of_adding_it_back(project: Path) -> None:
    policies = project / "policies"
    orders, postgres = policies / "orders.yaml", policies / "postgres.yaml"
    orders.write_text(orders.read_text(encoding="utf-8").replace(
        "action: allow", "action: deny  # no direct DB access until the review", 1), encoding="utf-8")
    postgres.write_text(postgres.read_text(encoding="utf-8").replace(
        "/usr/lib/postgresql/16/bin/postgres", "/usr/lib/postgresql/17/bin/postgres"), encoding="utf-8")
    before = tree_bytes(policies)
    result = run_nvpolicy("-C", str(project), "import", str(SEED_EXPORT), "-n", NS, "--merge")
    assert result.returncode == 1, result.stderr
    assert "egress rule 'orders-to-postgres': yours differs from the imported" in result.stdout
    assert "process rule 'postgres': yours differs from the imported" in result.stdout
    assert tree_bytes(policies) == before  # neither the allow nor the old path came back
