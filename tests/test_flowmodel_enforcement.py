"""The flow model against ENFORCEMENT.md: one golden case per behaviour, named by its section.

Each case is a tiny policy, a flow or a process start, the verdict NeuVector gives (as the reference
reads the code) and the rule that decides it (None for the implicit rule / the profile's default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from nvpolicy.flowmodel.decide import Decision, Flow, Model
from nvpolicy.flowmodel.endpoints import NODE, Endpoint, external, workload
from nvpolicy.model import RenderedObject

from tests.flowmodel_helpers import cr, group, learned, model, rule

A, B = workload("a", "ns"), workload("b", "ns")
EXT_IP = external("203.0.113.7")
GA, GB = learned("a"), learned("b")


@dataclass
class Case:
    section: str
    title: str
    objects: list[RenderedObject]
    flow: Flow | tuple[Endpoint, str] | None  # a connection, or (workload, process path)
    verdict: str
    rule: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.section} {self.title}"


def tcp(client: Endpoint, server: Endpoint, port: int = 80, app: str | None = None) -> Flow:
    return Flow(client, server, "tcp", port, app)


def pair(client_mode: str, server_mode: str, *ingress: dict[str, Any]) -> list[RenderedObject]:
    """a in client_mode, b in server_mode, b's CR holding the given ingress rules."""
    return [cr(GA, client_mode), cr(GB, server_mode, ingress=list(ingress))]


DENY_A = rule("deny-a", GA, "deny")

CASES = [
    # §1.2 ingress/egress only write From/To.
    Case("1.2", "ingress entry: From peer, To target", pair("Protect", "Protect", rule("in", GA)), tcp(A, B),
         "allow", "in"),
    Case("1.2", "ingress entry does not allow the reverse", pair("Protect", "Protect", rule("in", GA)), tcp(B, A),
         "deny"),
    Case("1.2", "egress entry: From target, To peer", [cr(GA, "Protect", egress=[rule("out", GB)]), cr(GB, "Protect")],
         tcp(A, B), "allow", "out"),
    Case("1.2", "no workload at either end: no enforcer", [cr("nodes", "Protect", ingress=[rule("x", "external")])],
         Flow(EXT_IP, NODE, "tcp", 22), "open"),
    # §1.3 priority: higher first; ties unordered.
    Case("1.3", "higher priority decides first",
         pair("Protect", "Protect", rule("allow-low", GA, priority=0), rule("deny-high", GA, "deny", priority=10)),
         tcp(A, B), "deny", "deny-high"),
    Case("1.3", "equal priority, different actions: undetermined",
         pair("Protect", "Protect", rule("allow", GA, priority=5), rule("deny", GA, "deny", priority=5)),
         tcp(A, B), "undetermined", "allow"),
    Case("1.3", "equal priority, same action: no tie to report",
         pair("Protect", "Protect", rule("allow-1", GA), rule("allow-2", GA, ports="tcp/80")), tcp(A, B), "allow",
         "allow-1"),
    # §1.5 compile-time adjustments.
    Case("1.5", "host-related deny sinks below later allows",
         [cr(GB, "Protect", ingress=[rule("deny-nodes", "nodes", "deny", priority=100),
                                     rule("allow-nodes", "nodes", ports="tcp/80")])],
         Flow(NODE, B, "tcp", 80), "allow", "allow-nodes"),
    Case("1.5", "sunk host deny still decides what nothing else allows",
         [cr(GB, "Protect", ingress=[rule("deny-nodes", "nodes", "deny", priority=100),
                                     rule("allow-nodes", "nodes", ports="tcp/80")])],
         Flow(NODE, B, "tcp", 81), "deny", "deny-nodes"),
    Case("1.5", "containers→containers any drops later container rules",
         [cr("containers", None, ingress=[rule("all", "containers", priority=50)]),
          cr(GA, "Protect"), cr(GB, "Protect", ingress=[rule("deny-a", GA, "deny")])],
         tcp(A, B), "allow", "all"),
    # §2.3 ports.
    Case("2.3", "a bare port is TCP", pair("Protect", "Protect", rule("p", GA, ports="80")),
         Flow(A, B, "udp", 80), "deny"),
    Case("2.3", "any covers UDP", pair("Protect", "Protect", rule("p", GA, ports="any")), Flow(A, B, "udp", 53),
         "allow", "p"),
    Case("2.3", "port ranges", pair("Protect", "Protect", rule("p", GA, ports="tcp/8000-8080")), tcp(A, B, 8042),
         "allow", "p"),
    Case("2.3", "ICMP passes by the catch-all while ICMP policy is off",
         pair("Protect", "Protect", rule("d", GA, "deny", ports="any")), Flow(A, B, "icmp"), "allow"),
    Case("2.3", "with ICMP policy on, `any` covers ICMP",
         pair("Protect", "Protect", rule("d", GA, "deny", ports="any")), Flow(A, B, "icmp"), "deny", "d",
         {"icmp_policy": True}),
    Case("2.3", "other IP protocols are not subject to policy", pair("Protect", "Protect"), Flow(A, B, "sctp", 9),
         "open"),
    # §2.4 applications.
    Case("2.4", "the classified application must be listed",
         pair("Protect", "Protect", rule("pg", GA, ports="tcp/5432", apps=["PostgreSQL"])),
         tcp(A, B, 5432, "HTTP"), "deny"),
    Case("2.4", "an application rule matches its application",
         pair("Protect", "Protect", rule("pg", GA, ports="tcp/5432", apps=["PostgreSQL"])),
         tcp(A, B, 5432, "postgresql"), "allow", "pg"),
    Case("2.4", "an unclassified session matches only any-application rules",
         pair("Protect", "Protect", rule("pg", GA, ports="tcp/5432", apps=["PostgreSQL"])),
         tcp(A, B, 5432), "deny"),
    Case("2.4", "`any` in the list means every application",
         pair("Protect", "Protect", rule("pg", GA, ports="tcp/5432", apps=["PostgreSQL", "any"])),
         tcp(A, B, 5432, "HTTP"), "allow", "pg"),
    # §2.5 first match.
    Case("2.5", "the first matching rule wins",
         pair("Protect", "Protect", rule("allow-80", GA, ports="tcp/80", priority=1), rule("deny-all", GA, "deny")),
         tcp(A, B, 80), "allow", "allow-80"),
    Case("2.5", "later rules decide what earlier ones do not match",
         pair("Protect", "Protect", rule("allow-80", GA, ports="tcp/80", priority=1), rule("deny-all", GA, "deny")),
         tcp(A, B, 81), "deny", "deny-all"),
    Case("1.3", "first match needs distinct priorities: same-priority rules of one CR are unordered too",
         pair("Protect", "Protect", rule("allow-80", GA, ports="tcp/80"), rule("deny-all", GA, "deny")),
         tcp(A, B, 80), "undetermined", "allow-80"),
    # §2.6 implicit rule at the enforcing side.
    Case("2.6", "ingress from outside into Protect: deny", [cr(GB, "Protect")], tcp(EXT_IP, B), "deny"),
    Case("2.6", "egress to outside from Protect: deny", [cr(GA, "Protect")], tcp(A, EXT_IP, 443), "deny"),
    Case("2.6", "egress to outside from Monitor: violation", [cr(GA, "Monitor")], tcp(A, EXT_IP, 443), "violation"),
    Case("2.6", "egress to outside from Discover: learn", [cr(GA, "Discover")], tcp(A, EXT_IP, 443), "learn"),
    # §2.2 group membership.
    Case("2.2", "label keys are ORed with each other",
         [cr(GA, "Protect"), cr(GB, "Protect", ingress=[rule("l", group("lbl", ("app", "=", "x"),
                                                                       ("tier", "=", "web")))])],
         tcp(workload("a", "ns", labels={"tier": "web"}), B), "allow", "l"),
    Case("2.2", "a negative op does not select a pod lacking the label",
         [cr(GA, "Protect"), cr(GB, "Protect", ingress=[rule("l", group("lbl", ("app", "!=", "x")))])],
         tcp(workload("a", "ns", labels={}), B), "deny"),
    Case("2.2", "different keys are ANDed",
         [cr(GA, "Protect"), cr(GB, "Protect", ingress=[rule("l", group("g", ("app", "=", "x"),
                                                                       ("domain", "=", "other")))])],
         tcp(workload("a", "ns", labels={"app": "x"}), B), "deny"),
    Case("2.2", "= accepts anchored wildcards",
         [cr(GA, "Protect"), cr(GB, "Protect", ingress=[rule("w", group("g", ("image", "=", "reg/a:*")))])],
         tcp(workload("a", "ns", image="reg/a:1.2"), B), "allow", "w"),
    Case("2.2", "labels not described: undetermined when they would decide",
         [cr(GA, "Protect"), cr(GB, "Protect", ingress=[rule("l", group("lbl", ("app", "=", "x")))])],
         tcp(A, B), "undetermined"),
    Case("2.1", "ClusterIP groups never decide east-west traffic",
         [cr(GA, "Protect", egress=[rule("to-svc", group("nv.ip.b.ns", ("domain", "=", "ns")))]), cr(GB, "Protect")],
         tcp(A, B), "deny"),
    # §3.1 modes.
    Case("3.1", "several CRs on one group: Protect wins",
         [cr(GA, "Protect"), cr(GB, "Monitor", name="b-1"), cr(GB, "Protect", name="b-2")], tcp(A, B), "deny"),
    # §3.2 explicit deny, basic.
    Case("3.2", "basic deny Protect→Protect: deny", pair("Protect", "Protect", DENY_A), tcp(A, B), "deny", "deny-a"),
    Case("3.2", "basic deny Protect→Monitor: violation", pair("Protect", "Monitor", DENY_A), tcp(A, B), "violation",
         "deny-a"),
    Case("3.2", "basic deny Monitor→Protect: violation", pair("Monitor", "Protect", DENY_A), tcp(A, B), "violation",
         "deny-a"),
    Case("3.2", "basic deny Discover→Discover: violation, never learned", pair("Discover", "Discover", DENY_A),
         tcp(A, B), "violation", "deny-a"),
    Case("3.2", "basic deny no mode→Protect: deny",
         [cr(GB, "Protect", ingress=[rule("deny-ext", "external", "deny")])], tcp(EXT_IP, B), "deny", "deny-ext"),
    Case("3.2", "basic deny no mode→Monitor: violation",
         [cr(GB, "Monitor", ingress=[rule("deny-ext", "external", "deny")])], tcp(EXT_IP, B), "violation", "deny-ext"),
    Case("3.2", "basic deny Protect→no mode: deny",
         [cr(GA, "Protect", egress=[rule("deny-ext", "external", "deny")])], tcp(A, EXT_IP), "deny", "deny-ext"),
    Case("3.2", "strict deny Discover→Protect: deny", pair("Discover", "Protect", DENY_A), tcp(A, B), "deny",
         "deny-a", {"strict_group_mode": True}),
    Case("3.2", "strict deny Protect→Discover: deny", pair("Protect", "Discover", DENY_A), tcp(A, B), "deny",
         "deny-a", {"strict_group_mode": True}),
    Case("3.2", "strict deny Monitor→Monitor: violation", pair("Monitor", "Monitor", DENY_A), tcp(A, B),
         "violation", "deny-a", {"strict_group_mode": True}),
    Case("3.2", "an explicit allow stays allow in Discover (not learned)", pair("Discover", "Discover", rule("ok", GA)),
         tcp(A, B), "allow", "ok"),
    # §3.3 implicit contention.
    *[Case("3.3", f"basic implicit {c}→{s}: {v}", pair(c, s), tcp(A, B), v) for c, s, v in (
        ("Discover", "Discover", "learn"), ("Discover", "Monitor", "learn"), ("Discover", "Protect", "learn"),
        ("Monitor", "Discover", "learn"), ("Monitor", "Monitor", "violation"), ("Monitor", "Protect", "violation"),
        ("Protect", "Discover", "learn"), ("Protect", "Monitor", "violation"), ("Protect", "Protect", "deny"))],
    *[Case("3.3", f"strict implicit {c}→{s}: {v}", pair(c, s), tcp(A, B), v, None, {"strict_group_mode": True})
      for c, s, v in (
        ("Discover", "Discover", "learn"), ("Discover", "Monitor", "violation"), ("Discover", "Protect", "deny"),
        ("Monitor", "Discover", "violation"), ("Monitor", "Monitor", "violation"), ("Monitor", "Protect", "deny"),
        ("Protect", "Discover", "deny"), ("Protect", "Monitor", "deny"), ("Protect", "Protect", "deny"))],
    Case("3.1", "a group no CR gives a mode runs in the New Service Mode (assumed)", [cr(GB, "Protect")], tcp(A, B),
         "learn"),
    # §4 special and address groups.
    Case("4", "external matches an outside address", [cr(GA, "Protect", egress=[rule("ext", "external")])],
         tcp(A, EXT_IP, 443), "allow", "ext"),
    Case("4", "external never matches a workload", [cr(GA, "Protect", egress=[rule("ext", "external")]),
                                                    cr(GB, "Protect")], tcp(A, B), "deny"),
    Case("4", "address CIDR", [cr(GA, "Protect", egress=[rule("net", group("g", ("address", "=", "203.0.113.0/24")))])],
         tcp(A, EXT_IP), "allow", "net"),
    Case("4", "address range a-b",
         [cr(GA, "Protect", egress=[rule("r", group("g", ("address", "=", "203.0.113.1-203.0.113.5")))])],
         tcp(A, EXT_IP), "deny"),
    Case("4", "a host name matches by name (DNS assumed)",
         [cr(GA, "Protect", egress=[rule("db", group("g", ("address", "=", "db.example.com")))])],
         tcp(A, external("DB.example.com.")), "allow", "db"),
    Case("4", "a wildcard never matches the apex",
         [cr(GA, "Protect", egress=[rule("w", group("g", ("address", "=", "*.example.com")))])],
         tcp(A, external("example.com")), "deny"),
    Case("4", "a wildcard matches any depth",
         [cr(GA, "Protect", egress=[rule("w", group("g", ("address", "=", "*.example.com")))])],
         tcp(A, external("a.b.example.com")), "allow", "w"),
    Case("4", "a host name against an IP: DNS decides, undetermined",
         [cr(GA, "Protect", egress=[rule("db", group("g", ("address", "=", "db.example.com")))])],
         tcp(A, EXT_IP), "undetermined"),
    Case("4", "address groups never select workloads",
         [cr(GA, "Protect", egress=[rule("net", group("g", ("address", "=", "0.0.0.0/0")))]), cr(GB, "Protect")],
         tcp(A, B), "deny"),
    Case("4", "nodes are no mode: nodes→Protect deny rule blocks",
         [cr(GB, "Protect", ingress=[rule("deny-nodes", "nodes", "deny")])], Flow(NODE, B, "tcp", 80), "deny",
         "deny-nodes"),
    # §5 processes.
    Case("5.3", "an allow entry allows", [cr(GA, "Protect", process=[{"name": "java", "path": "/bin/java",
                                                                     "action": "allow"}], baseline="basic")],
         (A, "/bin/java"), "allow"),
    Case("5.3", "basic, unmatched, Protect: deny", [cr(GA, "Protect", baseline="basic")], (A, "/usr/bin/curl"), "deny"),
    Case("5.3", "basic, unmatched, Monitor: violation", [cr(GA, "Monitor", baseline="basic")], (A, "/usr/bin/curl"),
         "violation"),
    Case("5.3", "basic, unmatched, Discover: learn", [cr(GA, "Discover", baseline="basic")], (A, "/usr/bin/curl"),
         "learn"),
    Case("5.3", "a deny entry in Discover: violation",
         [cr(GA, "Discover", process=[{"name": "curl", "path": "/usr/bin/curl", "action": "deny"}])],
         (A, "/usr/bin/curl"), "violation"),
    Case("5.3", "a suspicious program without an allow entry in Discover: violation, not learned",
         [cr(GA, "Discover", baseline="basic")], (A, "/usr/bin/nc"), "violation"),
    Case("5.3", "zero-drift as the global baseline: an unlisted process is undetermined",
         [cr(GA, "Protect", baseline="zero-drift")], (A, "/usr/bin/curl"), "undetermined", None,
         {"profile_baseline": "zero-drift"}),
    Case("5.3", "CRD zero-drift falls back to the global default (basic)", [cr(GA, "Protect", baseline="zero-drift")],
         (A, "/usr/bin/curl"), "deny"),
    Case("5.1", "denies come before allows, whatever the file order",
         [cr(GA, "Protect", process=[{"name": "curl", "path": "/usr/bin/curl", "action": "allow"},
                                     {"name": "*", "path": "/usr/bin/*", "action": "deny"}])],
         (A, "/usr/bin/curl"), "deny"),
    Case("5.1", "allow */* comes first of all",
         [cr(GA, "Protect", process=[{"name": "curl", "path": "/usr/bin/curl", "action": "deny"},
                                     {"name": "*", "path": "*", "action": "allow"}])],
         (A, "/usr/bin/curl"), "allow"),
    Case("5.2", "a /dir/* path is a string prefix",
         [cr(GA, "Protect", process=[{"name": "x", "path": "/usr/b/*", "action": "allow"}])],
         (A, "/usr/bin/x"), "allow"),
    Case("5.2", "a name-only entry matches any path",
         [cr(GA, "Protect", process=[{"name": "sh", "action": "allow"}])], (A, "/opt/busybox/sh"), "allow"),
    Case("5.1", "entries of custom groups holding the workload count",
         [cr(GA, "Protect", baseline="basic"), cr(group("ns-wide", ("domain", "=", "ns")), None,
                                                  process=[{"name": "curl", "path": "/usr/bin/curl",
                                                            "action": "allow"}])],
         (A, "/usr/bin/curl"), "allow"),
]


def _decide(engine: Model, case: Case) -> Decision:
    if isinstance(case.flow, Flow):
        return engine.decide(case.flow)
    assert case.flow is not None
    endpoint, path = case.flow
    return engine.decide_process(endpoint, path.rsplit("/", 1)[-1], path)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_model_agrees_with_enforcement_md(case: Case) -> None:
    decision = _decide(model(*case.objects, **case.settings), case)
    assert decision.verdict == case.verdict, decision.reason
    assert (decision.rule.name if decision.rule else None) == case.rule
    if decision.verdict == "undetermined":
        assert decision.unknown, "an undetermined verdict must say what is unknown"


def test_guesses_are_said_not_silent() -> None:
    """DNS and modes nobody set are assumptions the decision carries (§6)."""
    engine = model(cr(GA, "Protect", egress=[rule("db", group("g", ("address", "=", "db.example.com")))]))
    decision = engine.decide(tcp(A, external("db.example.com")))
    assert any("DNS" in text for text in decision.assumptions)
    decision = model(cr(GB, "Protect")).decide(tcp(A, B))
    assert any("nv.a.ns" in text and "New Service Mode" in text for text in decision.assumptions)


def test_ties_name_both_rules() -> None:
    objects = pair("Protect", "Protect", rule("allow", GA, priority=5), rule("deny", GA, "deny", priority=5))
    decision = model(*objects).decide(tcp(A, B))
    assert decision.rule is not None and decision.also
    assert {decision.rule.name, *(r.name for r in decision.also)} == {"allow", "deny"}


def test_mode_override_runs_every_workload_in_protect() -> None:
    engine = model(cr(GA, "Monitor"), mode_override="Protect")
    assert engine.decide(tcp(A, EXT_IP, 443)).verdict == "deny"
