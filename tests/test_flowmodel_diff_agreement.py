"""diff's exposure and the flow model agree: a change diff does not call widening never lets through a
flow the model blocked before (hypothesis over small policies and their mutations)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nvpolicy.diff import diff_objects
from nvpolicy.flowmodel.decide import Flow, Model
from nvpolicy.flowmodel.endpoints import external, workload
from nvpolicy.flowmodel.policy import build_policy
from nvpolicy.model import Marks, RenderedObject, SourceDocument

PEERS = ("db", "cache", "api")
PORTS = ("any", "tcp/5432", "tcp/5000-6000", "tcp/80", "udp/53", "tcp/80,tcp/5432")
ADDRESSES = ("203.0.113.0/24", "203.0.113.7", "198.51.100.0/24")


def _learned(service: str) -> dict[str, Any]:
    return {"name": f"nv.{service}.shop", "criteria": [{"key": "service", "op": "=", "value": f"{service}.shop"},
                                                       {"key": "domain", "op": "=", "value": "shop"}]}


@st.composite
def peer(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(("service", "address", "external")))
    if kind == "service":
        return _learned(draw(st.sampled_from(PEERS)))
    if kind == "external":
        return {"name": "external"}
    return {"name": f"ext.{draw(st.sampled_from(('a', 'b')))}",
            "criteria": [{"key": "address", "op": "=", "value": draw(st.sampled_from(ADDRESSES))}]}


@st.composite
def rules(draw: Any) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 4))
    return [{"name": f"r{i}", "action": draw(st.sampled_from(("allow", "deny"))), "ports": draw(st.sampled_from(PORTS)),
             "priority": draw(st.sampled_from((0, 0, 5, 10))), "selector": draw(peer())} for i in range(count)]


def policy(egress: list[dict[str, Any]], mode: str = "Protect") -> dict[str, Any]:
    return {"apiVersion": "neuvector.com/v1", "kind": "NvSecurityRule",
            "metadata": {"name": "nv.web.shop", "namespace": "shop"},
            "spec": {"target": {"policymode": mode, "selector": _learned("web")}, "egress": egress}}


@st.composite
def mutated(draw: Any, egress: list[dict[str, Any]]) -> list[dict[str, Any]]:
    new = copy.deepcopy(egress)
    for _ in range(draw(st.integers(1, 2))):
        what = draw(st.sampled_from(("ports", "action", "priority", "peer", "add", "remove", "move")))
        index = draw(st.integers(0, len(new) - 1)) if new else 0
        if what == "add" or not new:
            new.append({"name": f"n{len(new)}", "action": draw(st.sampled_from(("allow", "deny"))),
                        "ports": draw(st.sampled_from(PORTS)), "priority": 0, "selector": draw(peer())})
        elif what == "remove" and len(new) > 1:
            new.pop(index)
        elif what == "move":
            new.insert(draw(st.integers(0, len(new) - 1)), new.pop(index))
        elif what == "ports":
            new[index]["ports"] = draw(st.sampled_from(PORTS))
        elif what == "action":
            new[index]["action"] = "deny" if new[index]["action"] == "allow" else "allow"
        elif what == "priority":
            new[index]["priority"] = draw(st.sampled_from((0, 5, 10)))
        elif what == "peer":
            new[index]["selector"] = draw(peer())
    return new


FLOWS = [Flow(workload("web", "shop"), server, "tcp" if port != 53 else "udp", port)
         for server in (*(workload(p, "shop") for p in PEERS), external("203.0.113.7"), external("198.51.100.9"))
         for port in (80, 5432, 5500, 53)]


def _model(data: dict[str, Any]) -> Model:
    obj = RenderedObject(data, SourceDocument(data, Marks("p.yaml")))
    peers = [RenderedObject(policy([], "Protect") | {"metadata": {"name": f"nv.{p}.shop", "namespace": "shop"}}
                            | {"spec": {"target": {"policymode": "Protect", "selector": _learned(p)}}},
                            SourceDocument({}, Marks(f"{p}.yaml"))) for p in PEERS]
    return Model(build_policy([obj, *peers]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_change_diff_does_not_call_widening_blocks_what_was_blocked(data: st.DataObject) -> None:
    old_rules = data.draw(rules())
    new_rules = data.draw(mutated(old_rules))
    old, new = policy(old_rules), policy(new_rules)
    exposures = {c.exposure for o in diff_objects([old], [new]).objects for c in o.changes}
    if "widens" in exposures:
        return
    before, after = _model(old), _model(new)
    for flow in FLOWS:
        was = before.decide(flow)
        if was.verdict == "deny":
            now = after.decide(flow)
            assert now.verdict == "deny", (
                f"{flow.server.label()} {flow.port_text()}: deny → {now.verdict} ({now.reason}) though diff says "
                f"{sorted(exposures) or 'nothing changed'}\nold: {old_rules}\nnew: {new_rules}")


def test_lowering_a_deny_to_an_allows_priority_widens() -> None:
    """The counterexample hypothesis found: diff called it neutral, the model says the flow may now pass."""
    deny = {"name": "deny-api", "action": "deny", "ports": "any", "priority": 5, "selector": _learned("api")}
    allow = {"name": "allow-api", "action": "allow", "ports": "any", "priority": 0, "selector": _learned("api")}
    lowered = {**deny, "priority": 0}
    changes = [c for o in diff_objects([policy([deny, allow])], [policy([lowered, allow])]).objects for c in o.changes]
    assert [(c.change, c.exposure) for c in changes] == [("changed", "widens")]
    flow = Flow(workload("web", "shop"), workload("api", "shop"), "tcp", 80)
    assert _model(policy([deny, allow])).decide(flow).verdict == "deny"
    assert _model(policy([lowered, allow])).decide(flow).verdict == "undetermined"
