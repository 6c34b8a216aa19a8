"""The seed story end to end, through the installed command: a Discover export from feature-6293
(orders → postgres, PostgreSQL learned on any port, java and pause) is imported once and rendered for
the namespace it came from, for QA (database shared in qa-db) and for PROD (database outside)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import run_nvpolicy, write_tree
from tests.import_helpers import SEED_EXPORT, export_items, normalised, rendered_objects, selector_key, traffic

QA_ENV = ("namespace: qa-namespace\npolicy_mode: Monitor\n"
          "peers:\n  postgres: {service: postgres, namespace: qa-db, port: 5432}\n")
PROD_ENV = ("namespace: orders-prod\npolicy_mode: Protect\n"
            "peers:\n  postgres: {address: url-to-my-external-db.com, port: 5432}\n")


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = write_tree(tmp_path_factory.mktemp("seed"), {"environments/qa.yaml": QA_ENV,
                                                          "environments/prod.yaml": PROD_ENV})
    (project / "policies").mkdir()
    result = run_nvpolicy("-C", str(project), "import", str(SEED_EXPORT), "--namespace", "feature-6293",
                          "--env-out", "environments/dev.yaml")
    assert result.returncode == 0, result.stderr
    assert "orders-to-postgres" in result.stdout and "tcp/5432 (well-known) via peers.postgres.port" in result.stdout
    return project


def _render(project: Path, env: str) -> dict[tuple[str, str], dict[str, Any]]:
    out = project / "out" / env
    result = run_nvpolicy("-C", str(project), "render", "--env", env, "--out", str(out))
    assert result.returncode == 0, result.stderr
    return rendered_objects(out)


def test_source_is_environment_neutral(imported: Path) -> None:
    files = sorted(p.name for p in (imported / "policies").iterdir())
    assert files == ["orders.yaml", "postgres.yaml"]
    text = (imported / "policies" / "orders.yaml").read_text(encoding="utf-8")
    assert "feature-6293" not in text.split("\n", 1)[1]  # only the provenance comment names it
    orders = yaml.safe_load(text)
    assert orders["metadata"] == {"name": "nv.orders.{{ namespace }}", "namespace": "{{ namespace }}"}
    assert orders["spec"]["target"] == {"policymode": "{{ policy_mode }}", "selector": '{{ service("orders") }}'}
    to_db = orders["spec"]["egress"][0]
    assert to_db == {"name": "orders-to-postgres", "action": "allow", "applications": ["PostgreSQL"],
                     "ports": "tcp/{{ peers.postgres.port }}", "selector": '{{ peer("postgres") }}'}
    env_text = (imported / "environments" / "dev.yaml").read_text(encoding="utf-8")
    assert env_text.startswith("# yaml-language-server: $schema=../schemas/environment.schema.json\n")
    assert yaml.safe_load(env_text) == {
        "namespace": "feature-6293", "policy_mode": "Discover",
        "peers": {"postgres": {"service": "postgres", "port": 5432}},
        # NeuVector learned in Discover: the source environment lets lint pass it.
        "lint": {"rules": {"allowed-policy-mode": {"options": {"allowed": ["Discover", "Monitor", "Protect"]}}}},
    }


def test_render_for_source_namespace_is_the_export_with_locked_port(imported: Path) -> None:
    rendered = _render(imported, "dev")
    exported = {(item["metadata"]["namespace"], item["metadata"]["name"]): normalised(item)
                for item in export_items(SEED_EXPORT.read_text(encoding="utf-8"))}
    # The linked kube-dns stub (no rules of its own) is the one object an import leaves out.
    del exported[("kube-system", "nv.kube-dns.kube-system")]
    assert set(rendered) == set(exported)
    locks = {"nv.postgres.feature-6293": "tcp/5432", "nv.kube-dns.kube-system": "udp/53"}
    for key, export in exported.items():
        got = rendered[key]
        assert got["kind"] == export["kind"]
        assert got["spec"]["target"]["policymode"] == export["spec"]["target"]["policymode"]
        assert selector_key(got["spec"]["target"]["selector"]) == selector_key(export["spec"]["target"]["selector"])
        for direction in ("ingress", "egress"):
            assert traffic(got["spec"].get(direction)) == traffic(export["spec"].get(direction), locks)
        for section in ("process", "file", "process_profile"):
            assert got["spec"].get(section) == export["spec"].get(section)
    assert [rule["ports"] for rule in rendered[("feature-6293", "nv.orders.feature-6293")]["spec"]["egress"]] == [
        "tcp/5432", "udp/53"]


def _learned(service: str, namespace: str) -> dict[str, Any]:
    return {"name": f"nv.{service}.{namespace}", "criteria": [
        {"key": "service", "op": "=", "value": f"{service}.{namespace}"},
        {"key": "domain", "op": "=", "value": namespace}]}


def _orders(namespace: str, mode: str, database: dict[str, Any]) -> dict[str, Any]:
    """The orders policy as the seed article edits it by hand for one environment."""
    return {
        "apiVersion": "neuvector.com/v1", "kind": "NvSecurityRule",
        "metadata": {"name": f"nv.orders.{namespace}", "namespace": namespace},
        "spec": {
            "target": {"policymode": mode, "selector": _learned("orders", namespace)},
            "egress": [
                {"name": "orders-to-postgres", "action": "allow", "applications": ["PostgreSQL"],
                 "ports": "tcp/5432", "selector": database},
                {"name": "orders-to-kube-dns", "action": "allow", "applications": ["DNS"], "ports": "udp/53",
                 "selector": _learned("kube-dns", "kube-system")},
            ],
            "process": [{"name": "java", "action": "allow", "path": "/usr/local/openjdk-17/bin/java"},
                        {"name": "pause", "action": "allow", "path": "/pause"}],
            "process_profile": {"baseline": "zero-drift"},
        },
    }


def test_render_for_qa_binds_the_shared_database(imported: Path) -> None:
    # QA's postgres belongs to the database team: only the orders policy renders, pointing at qa-db.
    assert _render(imported, "qa") == {
        ("qa-namespace", "nv.orders.qa-namespace"): _orders("qa-namespace", "Monitor", _learned("postgres", "qa-db")),
    }


def test_render_for_prod_binds_the_external_database(imported: Path) -> None:
    external = {"name": "ext.postgres.orders-prod",
                "criteria": [{"key": "address", "op": "=", "value": "url-to-my-external-db.com"}]}
    assert _render(imported, "prod") == {
        ("orders-prod", "nv.orders.orders-prod"): _orders("orders-prod", "Protect", external),
    }


def test_import_from_stdin_equals_import_from_file(imported: Path, tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    result = run_nvpolicy("-C", str(tmp_path), "import", "-", "-n", "feature-6293",
                          input=SEED_EXPORT.read_text(encoding="utf-8"))
    assert result.returncode == 0, result.stderr
    for name in ("orders.yaml", "postgres.yaml"):
        ours = (tmp_path / "policies" / name).read_text(encoding="utf-8").split("\n", 1)[1]
        theirs = (imported / "policies" / name).read_text(encoding="utf-8").split("\n", 1)[1]
        assert ours == theirs


def test_import_refuses_to_overwrite_without_merge(imported: Path) -> None:
    before = (imported / "policies" / "orders.yaml").read_bytes()
    result = run_nvpolicy("-C", str(imported), "import", str(SEED_EXPORT), "-n", "feature-6293")
    assert result.returncode == 2
    assert "exists" in result.stderr and "--merge" in result.stderr
    assert (imported / "policies" / "orders.yaml").read_bytes() == before


def _both_ends_export() -> str:
    """The seed export as NeuVector writes it when both groups are selected: the rule orders → postgres
    appears twice, as orders' egress and as postgres' ingress."""
    items = export_items(SEED_EXPORT.read_text(encoding="utf-8"))
    postgres = next(item for item in items if item["metadata"]["name"] == "nv.postgres.feature-6293")
    postgres["spec"]["ingress"] = [{
        "action": "allow", "applications": ["PostgreSQL"], "name": "nv.orders.feature-6293-ingress-2",
        "ports": "any", "priority": 0, "selector": {**_learned("orders", "feature-6293"), "comment": ""}}]
    return yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items})


def test_both_ends_of_a_rule_still_render_for_qa_and_prod_binding_only_the_database(tmp_path: Path) -> None:
    # orders is now a peer of postgres too; QA and PROD bind only postgres and must still get orders.
    project = write_tree(tmp_path, {"environments/qa.yaml": QA_ENV, "environments/prod.yaml": PROD_ENV,
                                    "export.yaml": _both_ends_export()})
    result = run_nvpolicy("-C", str(project), "import", "export.yaml", "-n", "feature-6293",
                          "--env-out", "environments/dev.yaml")
    assert result.returncode == 0, result.stderr
    assert _render(project, "qa") == {
        ("qa-namespace", "nv.orders.qa-namespace"): _orders("qa-namespace", "Monitor", _learned("postgres", "qa-db")),
    }
    assert set(_render(project, "prod")) == {("orders-prod", "nv.orders.orders-prod")}
    dev = _render(project, "dev")
    assert set(dev) == {("feature-6293", "nv.orders.feature-6293"), ("feature-6293", "nv.postgres.feature-6293")}
    ingress = dev[("feature-6293", "nv.postgres.feature-6293")]["spec"]["ingress"]
    assert ingress == [{"name": "orders-to-postgres", "action": "allow", "applications": ["PostgreSQL"],
                        "ports": "tcp/5432", "selector": _learned("orders", "feature-6293")}]


def test_a_namespace_the_export_does_not_name_is_refused_with_did_you_mean(tmp_path: Path) -> None:
    result = run_nvpolicy("-C", str(tmp_path), "import", str(SEED_EXPORT), "-n", "feature-629",
                          "--env-out", "environments/dev.yaml")
    assert result.returncode == 2
    assert "error: --namespace feature-629: the export has no object or group in that namespace" in result.stderr
    assert "did you mean --namespace feature-6293?" in result.stderr
    assert not (tmp_path / "policies").exists() and not (tmp_path / "environments").exists()
