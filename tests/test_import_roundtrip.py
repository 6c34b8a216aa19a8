"""Round trip on generated exports: import(export) rendered for the source namespace is the export,
modulo the documented normalisations, renamed positional rule names and allow rules' ports locked from
``any`` (a deny rule keeps ``any``: a lock would narrow what it denies)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nvpolicy.emit import dump
from nvpolicy.learn.envfile import new_environment_text
from nvpolicy.learn.exports import read_exports
from nvpolicy.learn.importer import plan_import
from nvpolicy.learn.ports import WELL_KNOWN_PORTS
from nvpolicy.learn.writer import source_text
from nvpolicy.pipeline import render_environment

from tests.import_helpers import normalised, selector_key

SERVICES = ["orders", "postgres", "redis-cache", "web", "api-v2", "mq"]
ADDRESSES = {"test": "google.com", "ext-db": "10.20.0.0/16", "AzureSQL": "*.database.windows.net"}
APPS = ["PostgreSQL", "Redis", "HTTP", "SSL", "DNS", "RabbitMQ", "GRPC", "any"]


def _learned(service: str, namespace: str, exported: bool = True) -> dict[str, Any]:
    selector: dict[str, Any] = {"name": f"nv.{service}.{namespace}", "criteria": [
        {"key": "service", "op": "=", "value": f"{service}.{namespace}"},
        {"key": "domain", "op": "=", "value": namespace}]}
    if exported:
        selector.update(comment="", original_name="")
    return selector


@st.composite
def exports(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]]]:
    namespace = draw(st.sampled_from(["feature-6293", "dev", "team-a"]))
    targets = draw(st.lists(st.sampled_from(SERVICES), min_size=1, max_size=4, unique=True))
    peers = st.one_of(
        st.sampled_from(SERVICES).map(lambda s: _learned(s, namespace)),
        st.just(_learned("kube-dns", "kube-system")),
        st.sampled_from(sorted(ADDRESSES)).map(
            lambda g: {"name": g, "criteria": [{"key": "address", "op": "=", "value": ADDRESSES[g]}]}),
        st.just({"name": "external", "criteria": []}),
    )
    counter = 0
    items = []
    for service in targets:
        spec: dict[str, Any] = {"target": {"selector": _learned(service, namespace),
                                           "policymode": draw(st.sampled_from(["Discover", "Monitor", "Protect"]))}}
        for direction in ("ingress", "egress"):
            rules = []
            for peer in draw(st.lists(peers, max_size=3, unique_by=lambda p: p["name"])):
                apps = draw(st.lists(st.sampled_from(APPS), min_size=1, max_size=2, unique=True))
                ports = draw(st.sampled_from(["any", "any", "tcp/8080", "udp/53"]))
                rules.append({"selector": peer, "action": draw(st.sampled_from(["allow", "deny"])),
                              "applications": apps, "name": f"{peer['name']}-{direction}-{counter}",
                              "ports": ports, "priority": 0})
                counter += 1
            spec[direction] = rules or draw(st.sampled_from([None, []]))
        spec["process"] = [{"action": "allow", "name": "pause", "path": "/pause"}]
        spec["file"] = draw(st.sampled_from([None, []]))
        items.append({"apiVersion": "neuvector.com/v1", "kind": "NvSecurityRule",
                      "metadata": {"name": f"nv.{service}.{namespace}", "namespace": namespace}, "spec": spec})
    return namespace, items


def _expected_ports(rule: dict[str, Any]) -> set[str]:
    ports = str(rule.get("ports", "any"))
    apps = [a for a in rule.get("applications") or [] if a != "any"]
    if ports == "any" and rule["action"] == "allow" and apps and all(a in WELL_KNOWN_PORTS for a in apps):
        return {f"{WELL_KNOWN_PORTS[a][0]}/{WELL_KNOWN_PORTS[a][1]}" for a in apps}
    return set(ports.split(","))


def _traffic(rules: list[dict[str, Any]] | None, expect_locks: bool) -> list[tuple[Any, ...]]:
    return sorted(
        (r["action"], tuple(sorted(r["applications"])),
         tuple(sorted(_expected_ports(r) if expect_locks else set(str(r.get("ports")).split(",")))),
         selector_key(r["selector"]))
        for r in rules or [])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exports())
def test_import_then_render_gives_the_export_back(case: tuple[str, list[dict[str, Any]]]) -> None:
    namespace, items = case
    text = dump({"apiVersion": "v1", "kind": "List", "items": items})
    plan = plan_import(read_exports([("export.yaml", text)]), namespace)
    assert plan.environment is not None
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        for name, objects in plan.files.items():
            path = project / "policies" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source_text(objects, "# generated\n"), encoding="utf-8")
        (project / "environments").mkdir()
        (project / "environments" / "src.yaml").write_text(new_environment_text(plan.environment, "x"), "utf-8")
        rendered = {obj.id.name: obj.data for obj in render_environment(project, "src").objects}
    assert set(rendered) == {item["metadata"]["name"] for item in items}
    for item in items:
        want = normalised(item)
        got = rendered[item["metadata"]["name"]]
        assert got["metadata"] == want["metadata"]
        assert got["spec"]["target"]["policymode"] == want["spec"]["target"]["policymode"]
        assert selector_key(got["spec"]["target"]["selector"]) == selector_key(want["spec"]["target"]["selector"])
        for direction in ("ingress", "egress"):
            assert _traffic(got["spec"].get(direction), False) == _traffic(want["spec"].get(direction), True)
            names = [rule["name"] for rule in got["spec"].get(direction) or []]
            assert not any("-ingress-" in n or "-egress-" in n for n in names)
        assert got["spec"].get("process") == want["spec"].get("process")
