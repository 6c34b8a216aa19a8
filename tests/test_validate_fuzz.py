"""validate never crashes, whatever shape a document has: findings or nothing, never an exception."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nvpolicy.model import Marks, RenderedObject, SourceDocument
from nvpolicy.validate import validate_objects

_leaf = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000),
                  st.sampled_from(["", "*", "=", "any", "tcp/1-0", "nodes", "nv.a.b", "address", "/x/", "N/A",
                                   "Protect", "allow", "deny", "fed.x", "shop"]))
_value = st.recursive(_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["name", "key", "op", "value", "criteria", "selector", "action", "ports",
                                     "applications", "priority", "path", "policymode", "name_referral", "file",
                                     "baseline", "status", "settings"]), inner, max_size=4)), max_leaves=12)
_spec = st.fixed_dictionaries({}, optional={
    "target": st.fixed_dictionaries({}, optional={"policymode": _value, "selector": _value}),
    "ingress": st.lists(_value, max_size=2), "egress": st.lists(_value, max_size=2),
    "process": st.lists(_value, max_size=2), "file": _value, "process_profile": _value, "dlp": _value,
})
_object = st.fixed_dictionaries({
    "apiVersion": st.just("neuvector.com/v1"),
    "kind": st.sampled_from(["NvSecurityRule", "NvClusterSecurityRule", "NvGroupDefinition"]),
    "metadata": st.one_of(_value, st.fixed_dictionaries({"name": _leaf, "namespace": _leaf})),
    "spec": st.one_of(_value, _spec, st.fixed_dictionaries({"selector": _value})),
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_object, min_size=1, max_size=3))
def test_validate_survives_any_shape(objects: list[dict[str, Any]]) -> None:
    rendered = [RenderedObject(data, SourceDocument(data, Marks("fuzz.yaml"))) for data in objects]
    findings = validate_objects(rendered)
    assert all(finding.level in ("error", "warning", "info") for finding in findings)


_names = st.sampled_from(["nodes", "containers", "external", "nv.a.shop", "nv.ip.a.shop", "web", "fed.web", "Host:x"])
_criterion = st.fixed_dictionaries({
    "key": st.sampled_from(["address", "domain", "service", "app", "image"]),
    "op": st.sampled_from(["=", "!=", "regex", "contains"]),
    "value": st.sampled_from(["", "*", "shop", "a.shop", "10.0.0.1", "1.1.1.9-1.1.1.1", "^x$", "(", "vh:db"]),
})
_selector = st.fixed_dictionaries({"name": _names}, optional={
    "criteria": st.lists(_criterion, max_size=3), "name_referral": st.booleans()})
_rule = st.fixed_dictionaries({
    "name": st.sampled_from(["r1", "r2"]), "action": st.sampled_from(["allow", "deny"]), "selector": _selector,
}, optional={"ports": st.sampled_from(["any", "tcp/1-0", "80 443", "udp/any"]),
             "applications": st.lists(st.sampled_from(["HTTP", "http", "SSL", "any"]), max_size=2),
             "priority": st.integers(0, 100)})
_shaped = st.fixed_dictionaries({
    "apiVersion": st.just("neuvector.com/v1"),
    "kind": st.just("NvClusterSecurityRule"),
    "metadata": st.fixed_dictionaries({"name": st.sampled_from(["a", "b"])}),
    "spec": st.fixed_dictionaries(
        {"target": st.fixed_dictionaries({"selector": _selector},
                                         optional={"policymode": st.sampled_from(["Protect", "N/A"])})},
        optional={"ingress": st.lists(_rule, max_size=2), "egress": st.lists(_rule, max_size=2),
                  "process": st.lists(st.fixed_dictionaries({"action": st.just("allow"),
                                                             "name": st.sampled_from(["*", "sh"]),
                                                             "path": st.sampled_from(["*", "/bin/sh"])}),
                                      max_size=2)}),
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_shaped, min_size=1, max_size=3))
def test_rules_survive_schema_shaped_objects(objects: list[dict[str, Any]]) -> None:
    rendered = [RenderedObject(data, SourceDocument(data, Marks("fuzz.yaml"))) for data in objects]
    findings = validate_objects(rendered)
    assert all(finding.rule for finding in findings)
