"""Round trip on generated exports shaped like NeuVector 5.2, 5.3 and 5.4 exports.

5.2: learned targets with service + domain criteria; 5.3 adds the metric fields on the target
selector (``grp_*``, ``mon_metric``); 5.4 can export with name referral (an NvGroupDefinition list,
then selectors with ``name_referral: true`` and no criteria). Every version may carry
``process_profile.mode``, targets without a policy mode, linked-group stubs, a custom group pinned to
the namespace, sidecar processes, ``Workload:ingress``/``nv.ip.*`` peers and learned peers with partial
or no criteria.

Checked for each: import(export) rendered for the source namespace is the export modulo the
documented normalisations (README, import section); rendered for another namespace it differs only
by the namespace; ``lint`` passes for the written environment.
"""

from __future__ import annotations

import copy
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nvpolicy.emit import dump, dump_all
from nvpolicy.learn.envfile import new_environment_text
from nvpolicy.learn.exports import read_exports
from nvpolicy.learn.importer import plan_import
from nvpolicy.learn.writer import source_text
from nvpolicy.lint import lint_environment
from nvpolicy.pipeline import render_environment

from tests.import_helpers import expected_ports, normalised, selector_key

NAMESPACES = ["feature-6293", "team-a", "shop"]
OTHER = "orders-prod"
SERVICES = ["orders", "postgres", "redis-cache", "web"]
APPS = ["PostgreSQL", "Redis", "HTTP", "SSL", "DNS", "GRPC", "any"]
METRICS = {"grp_band_width": 0, "grp_sess_cur": 0, "grp_sess_rate": 0, "mon_metric": False}
MODES = ["Discover", "Monitor", "Protect"]
# Peers and process rules that NeuVector accepts (Workload:ingress, nv.ip.*, partial criteria, allow */*).
STAR = True
SIDECAR = {"action": "allow", "name": "envoy", "path": "/usr/local/bin/envoy"}


def _learned(service: str, namespace: str) -> dict[str, Any]:
    return {"name": f"nv.{service}.{namespace}", "comment": "", "original_name": "", "criteria": [
        {"key": "service", "op": "=", "value": f"{service}.{namespace}"},
        {"key": "domain", "op": "=", "value": namespace}]}


def _peers(namespace: str) -> list[dict[str, Any]]:
    """Every kind of peer a real export has (CONTROLLER-CHECKS.md, "Real exports")."""
    return [
        *[_learned(service, namespace) for service in SERVICES],
        {"name": "test", "criteria": [{"key": "address", "op": "=", "value": "google.com"}]},
        {"name": "external", "criteria": []},
    ] + ([] if not STAR else [
        {"name": "Workload:ingress"},
        {"name": "nv.kube-dns.kube-system", "criteria": [{"key": "domain", "op": "=", "value": "kube-system"}]},
        {"name": "nv.consul-server.consul"},  # learned, no criteria
        {"name": f"nv.cache.{namespace}", "criteria": [{"key": "service", "op": "=", "value": f"cache.{namespace}"}]},
        {"name": "nv.ip.kubernetes.default", "criteria": [{"key": "address", "op": "=", "value": "10.43.0.1"},
                                                          {"key": "domain", "op": "=", "value": "default"}]},
    ])


@st.composite
def exports(draw: st.DrawFn) -> dict[str, Any]:
    version = draw(st.sampled_from(["5.2", "5.3", "5.4"]))
    referral = version == "5.4" and draw(st.booleans())
    namespace = draw(st.sampled_from(NAMESPACES))
    targets = draw(st.lists(st.sampled_from(SERVICES), min_size=1, max_size=3, unique=True))
    peers = _peers(namespace)
    counter = 0
    items: list[dict[str, Any]] = []
    used: dict[str, dict[str, Any]] = {}
    for service in targets:
        selector = _learned(service, namespace)
        if version != "5.2" and not referral:
            selector.update(METRICS)
        target: dict[str, Any] = {"selector": selector}
        mode = draw(st.sampled_from([*MODES, None]))
        if mode is not None:
            target["policymode"] = mode
        spec: dict[str, Any] = {"target": target, "dlp": {"settings": [], "status": True}, "file": [],
                                "response": None}
        for direction in ("ingress", "egress"):
            rules = []
            for peer in draw(st.lists(st.sampled_from(peers), max_size=3, unique_by=lambda p: p["name"])):
                if peer["name"] == "Workload:ingress" and (direction == "egress" or referral):
                    continue  # NeuVector exports it as an ingress peer only, never as a referral
                used.setdefault(peer["name"], peer)
                rules.append({"selector": copy.deepcopy(peer), "action": draw(st.sampled_from(["allow", "deny"])),
                              "applications": draw(st.lists(st.sampled_from(APPS), min_size=1, max_size=2,
                                                            unique=True)),
                              "name": f"{peer['name']}-{direction}-{counter}", "priority": 0,
                              "ports": draw(st.sampled_from(["any", "tcp/8080", "udp/53"]))})
                counter += 1
            spec[direction] = rules or draw(st.sampled_from([None, []]))
        process = [{"action": "allow", "name": "pause", "path": "/pause"},
                   {"action": "allow", "name": service, "path": f"/usr/bin/{service}"}]
        if draw(st.booleans()):
            process.append(dict(SIDECAR))
        if STAR and draw(st.booleans()):
            process.append({"action": "allow", "name": "*", "path": "*"})
        spec["process"] = process
        if draw(st.booleans()):
            profile_mode = draw(st.sampled_from([mode, *MODES])) if mode else draw(st.sampled_from(MODES))
            spec["process_profile"] = {"baseline": draw(st.sampled_from(["zero-drift", "basic"])),
                                       "mode": profile_mode}
        items.append({"apiVersion": "neuvector.com/v1", "kind": "NvSecurityRule",
                      "metadata": {"name": f"nv.{service}.{namespace}", "namespace": namespace}, "spec": spec})
    if "nv.kube-dns.kube-system" in used:  # the linked group NeuVector exports beside the rule
        items.append({"apiVersion": "neuvector.com/v1", "kind": "NvSecurityRule",
                      "metadata": {"name": "nv.kube-dns.kube-system", "namespace": "kube-system"},
                      "spec": {"target": {"selector": used["nv.kube-dns.kube-system"], "policymode": "Monitor"},
                               "ingress": [], "egress": None, "process": []}})
    if draw(st.booleans()):  # a custom group pinned to the namespace, exported cluster-scoped
        items.append({"apiVersion": "neuvector.com/v1", "kind": "NvClusterSecurityRule",
                      "metadata": {"name": f"{namespace}-pods", "namespace": ""},
                      "spec": {"target": {"policymode": "N/A", "selector": {
                          "name": f"{namespace}-pods", "criteria": [{"key": "domain", "op": "=", "value": namespace}]}},
                          "ingress": [], "egress": [], "file": [], "process": []}})
    text = dump({"apiVersion": "v1", "kind": "List", "metadata": None, "items": items})
    if referral:
        text = _with_referral(items, used, namespace)
    return {"version": version, "namespace": namespace, "items": items, "text": text,
            "split": draw(st.booleans())}


def _with_referral(items: list[dict[str, Any]], used: dict[str, dict[str, Any]], namespace: str) -> str:
    """The 5.4 name-referral form: definitions first, then every selector by name only."""
    groups = {**used, **{item["spec"]["target"]["selector"]["name"]: item["spec"]["target"]["selector"]
                         for item in items}}
    definitions = [{"apiVersion": "neuvector.com/v1", "kind": "NvGroupDefinition",
                    "metadata": {"name": name.lower().replace(":", "-"), "namespace": "neuvector"},
                    "spec": {"selector": {k: v for k, v in selector.items() if k in ("name", "criteria")}}}
                   for name, selector in sorted(groups.items())]
    referring = copy.deepcopy(items)
    for item in referring:
        for selector in _selectors(item):
            for key in [key for key in selector if key != "name"]:
                del selector[key]
            selector["name_referral"] = True
    return dump_all([{"apiVersion": "v1", "kind": "List", "items": definitions},
                     {"apiVersion": "v1", "kind": "List", "items": referring}])


def _selectors(item: dict[str, Any]) -> list[dict[str, Any]]:
    spec = item["spec"]
    rules = [rule for direction in ("ingress", "egress") for rule in spec.get(direction) or []]
    return [spec["target"]["selector"], *[rule["selector"] for rule in rules]]


def _import(case: dict[str, Any], project: Path) -> dict[str, Any]:
    """What ``nvpolicy import EXPORT -n NS --env-out environments/src.yaml`` writes, in process."""
    plan = plan_import(read_exports([("export.yaml", case["text"])]), case["namespace"], split=case["split"])
    assert plan.environment is not None
    for name, objects in plan.files.items():
        path = project / "policies" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source_text(objects, "# generated\n"), encoding="utf-8")
    (project / "environments").mkdir()
    env_text = new_environment_text(plan.environment, "export.yaml", "../schemas/environment.schema.json")
    (project / "environments" / "src.yaml").write_text(env_text, encoding="utf-8")
    other = {key: value for key, value in plan.environment.items() if key != "lint"}
    (project / "environments" / "other.yaml").write_text(dump({**other, "namespace": OTHER}), encoding="utf-8")
    prod = {**other, "namespace": OTHER, "policy_mode": "Protect" if other["policy_mode"] != "Protect" else "Monitor"}
    (project / "environments" / "prod.yaml").write_text(dump(prod), encoding="utf-8")
    return plan.environment


def _traffic(rules: list[dict[str, Any]] | None, exported: bool) -> list[tuple[Any, ...]]:
    return sorted((r["action"], tuple(sorted(r["applications"])),
                   expected_ports(r) if exported else tuple(sorted(str(r.get("ports")).split(","))),
                   selector_key(r["selector"])) for r in rules or [])


def _target(selector: dict[str, Any]) -> tuple[Any, ...]:
    return *selector_key(selector), tuple(sorted((k, v) for k, v in selector.items() if k in METRICS))


def _expected_objects(case: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The export as it should render: normalised, linked-group stubs left out, sidecars split when asked."""
    expected: dict[str, dict[str, Any]] = {}
    for item in case["items"]:
        if item["metadata"]["name"] == "nv.kube-dns.kube-system":
            continue  # a linked stub outside the namespace: skipped, and reported
        want = normalised(copy.deepcopy(item))
        if want["kind"] == "NvClusterSecurityRule":
            want["metadata"].pop("namespace", None)
        if case["split"] and SIDECAR in want["spec"].get("process", []):
            want["spec"]["process"].remove(SIDECAR)
            service = want["metadata"]["name"].split(".")[1]
            sidecar = f"sidecar.istio-proxy.{service}.{case['namespace']}"
            expected[sidecar] = {"metadata": {"name": sidecar, "namespace": case["namespace"]},
                                 "spec": {"process": [SIDECAR]}}
        expected[want["metadata"]["name"]] = want
    return expected


def _modes(data: dict[str, Any]) -> tuple[Any, Any]:
    """The target's and the process profile's policy mode (None where unset)."""
    spec = data["spec"]
    return (spec.get("target") or {}).get("policymode"), (spec.get("process_profile") or {}).get("mode")


def _lift_namespace(value: Any, namespace: str) -> Any:
    """Every whole-label occurrence of ``namespace`` replaced by OTHER (what another environment changes)."""
    text = json.dumps(value, sort_keys=True)
    return json.loads(re.sub(r"(?<![A-Za-z0-9-])" + re.escape(namespace) + r"(?![A-Za-z0-9-])", OTHER, text))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exports())
def test_import_of_a_5x_export_renders_back_for_every_environment(case: dict[str, Any]) -> None:
    namespace = case["namespace"]
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        environment = _import(case, project)
        source = {obj.id.name: obj.data for obj in render_environment(project, "src").objects}
        other = {obj.id.name: obj.data for obj in render_environment(project, "other").objects}
        prod = render_environment(project, "prod")
        prod_modes = {obj.id.name: _modes(obj.data) for obj in prod.objects}
        findings = lint_environment(project, "src", []).findings
    errors = [f"{f.rule}: {f.message}" for f in findings if f.level == "error"]
    assert errors == []
    assert set(environment) >= {"namespace", "policy_mode"}
    expected = _expected_objects(case)
    assert set(source) == set(expected)
    for name, want in expected.items():
        got = source[name]
        assert got["metadata"] == want["metadata"]
        if name.startswith("sidecar."):
            assert got["spec"]["process"] == want["spec"]["process"]
            continue
        got_target, want_target = got["spec"]["target"], want["spec"]["target"]
        assert got_target.get("policymode") == want_target.get("policymode")
        assert _target(got_target["selector"]) == _target(want_target["selector"])
        assert got["spec"].get("process_profile") == want["spec"].get("process_profile")
        assert got["spec"].get("process") == want["spec"].get("process")
        for direction in ("ingress", "egress"):
            assert _traffic(got["spec"].get(direction), False) == _traffic(want["spec"].get(direction), True)
            names = [rule["name"] for rule in got["spec"].get(direction) or []]
            assert not any(re.search(r"-(ingress|egress)-\d+$", name) for name in names)
    # An environment with another policy mode: what NeuVector learned in the namespace's mode follows it,
    # the process profile too (NeuVector applies the profile's mode first); other modes stay as exported.
    env_mode, prod_mode = environment["policy_mode"], prod.environment.policy_mode
    for name, data in source.items():
        exported = _modes(data)
        want_modes = tuple(prod_mode if mode == env_mode and exported[0] == env_mode and name.startswith("nv.")
                           else mode for mode in exported)
        assert prod_modes[_lift_namespace(name, namespace)] == want_modes, name
    # Another environment: the same objects with only the namespace changed.
    assert {_lift_namespace(name, namespace): _lift_namespace(data, namespace)
            for name, data in source.items()} == other


def test_written_environment_file_is_lint_clean_and_says_what_it_is() -> None:
    # A Discover export whose allow rule cannot be locked (GRPC has no well-known port).
    items = [{"apiVersion": "neuvector.com/v1", "kind": "NvSecurityRule",
              "metadata": {"name": "nv.orders.shop", "namespace": "shop"},
              "spec": {"target": {"selector": {**_learned("orders", "shop"), **METRICS}, "policymode": "Discover"},
                       "process_profile": {"baseline": "zero-drift", "mode": "Discover"},
                       "egress": [{"selector": _learned("web", "shop"), "action": "allow", "applications": ["GRPC"],
                                   "name": "nv.web.shop-egress-0", "ports": "any"}]}}]
    case = {"namespace": "shop", "items": items, "split": False,
            "text": dump({"apiVersion": "v1", "kind": "List", "items": items})}
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        _import(case, project)
        text = (project / "environments" / "src.yaml").read_text(encoding="utf-8")
        findings = lint_environment(project, "src", []).findings
        orders = yaml.safe_load((project / "policies" / "orders.yaml").read_text(encoding="utf-8").split("\n", 1)[1])
    assert text.startswith("# yaml-language-server: $schema=../schemas/environment.schema.json\n")
    data = yaml.safe_load(text)
    assert data["policy_mode"] == "Discover"
    assert data["lint"]["rules"]["allowed-policy-mode"]["options"]["allowed"] == MODES
    assert [w["object"] for w in data["lint"]["waivers"]] == ["nv.orders.shop"]
    assert [f.rule for f in findings if f.level == "error"] == []
    assert orders["spec"]["process_profile"] == {"baseline": "zero-drift", "mode": "{{ policy_mode }}"}
    assert orders["spec"]["target"]["policymode"] == "{{ policy_mode }}"
    assert orders["spec"]["target"]["selector"]["grp_sess_rate"] == 0


JUNK = st.recursive(st.none() | st.booleans() | st.integers(-2, 70000) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=6)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exports(), st.data())
def test_any_value_anywhere_in_an_export_is_imported_or_refused_never_a_crash(case: dict[str, Any],
                                                                               data: st.DataObject) -> None:
    from nvpolicy.errors import NvPolicyError

    documents = list(yaml.safe_load_all(case["text"]))
    document = data.draw(st.sampled_from(documents))
    path = data.draw(st.sampled_from(_paths(document)[1:]))
    node = document
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = data.draw(JUNK)
    try:
        plan = plan_import(read_exports([("export.yaml", dump_all(documents))]), case["namespace"],
                           split=case["split"])
    except NvPolicyError as error:  # exit 2 for the user: the message names the file, and the line where known
        assert error.format_message().startswith(("export.yaml", "error: --namespace")), error.format_message()
        return
    assert plan.report.imported or plan.report.skipped
