"""The model's fast path (rule index, cached membership, memoised questions) decides exactly as a plain
scan of every rule in order does: hypothesis over generated policies and questions.

The reference is the same first-match walk over *all* compiled rules and process entries, with a fresh
model per question, so no index, cache or memo can hide a rule or leak an answer between questions.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nvpolicy.flowmodel.decide import Flow, Model, Settings
from nvpolicy.flowmodel.endpoints import NODE, Endpoint, external, workload
from nvpolicy.flowmodel.policy import Group, Policy, ProcessEntry, Rule, build_policy
from nvpolicy.model import RenderedObject

from tests.flowmodel_helpers import cr, group, learned, rule

SERVICES = ("a", "b", "c")
NAMESPACES = ("x", "y")
PORTS = ("any", "tcp/80", "tcp/5000-6000", "udp/53", "tcp/80,udp/53", "icmp", "tcp/any")
APPS = (None, ["HTTP"], ["PostgreSQL", "HTTP"])
MODES = (None, "Discover", "Monitor", "Protect")


class ScanAll(Policy):
    """Every rule and every process entry is a candidate, in compiled order: the straightforward reading."""

    def candidates(self, client: Endpoint, server: Endpoint) -> list[Rule]:
        return list(self.rules)

    def process_candidates(self, workload: Endpoint) -> list[tuple[Group, ProcessEntry]]:
        return list(self.process_entries)


def reference(objects: list[RenderedObject], model_settings: Settings) -> Model:
    built = build_policy(objects)
    return Model(ScanAll(**{f.name: getattr(built, f.name) for f in fields(built)}), model_settings)


def selectors() -> st.SearchStrategy[dict[str, Any]]:
    custom = st.sampled_from([
        group("g.label", ("app", "=", "web")),
        group("g.nolabel", ("app", "!=", "web"), ("domain", "=", "x")),
        group("g.wild", ("service", "=", "a*")),
        group("g.svc", ("service", "=", "b"), ("service", "=", "c.y")),
        group("g.image", ("image", "=", "nginx*")),
        group("g.addr", ("address", "=", "203.0.113.0/24")),
        group("g.fqdn", ("address", "=", "*.example.com")),
        group("g.ns", ("ns:team", "=", "red")),
    ])
    named = st.sampled_from([{"name": n} for n in ("external", "nodes", "containers", "nv.ip.kube-dns")])
    learned_ = st.builds(learned, st.sampled_from(SERVICES), st.sampled_from(NAMESPACES))
    return st.one_of(learned_, custom, named)


@st.composite
def rules(draw: Any) -> list[dict[str, Any]]:
    return [rule(f"r{i}", draw(selectors()), draw(st.sampled_from(("allow", "deny"))), draw(st.sampled_from(PORTS)),
                 draw(st.sampled_from(APPS)), draw(st.sampled_from((None, 0, 5, 10))))
            for i in range(draw(st.integers(0, 4)))]


@st.composite
def processes(draw: Any) -> list[dict[str, Any]]:
    entries = [("curl", "/usr/bin/curl"), ("*", "/usr/bin/*"), ("sh", ""), ("*", "*"), ("nc", "/bin/nc"),
               ("python", "/usr/*/python")]
    chosen = draw(st.lists(st.sampled_from(entries), max_size=3, unique=True))
    return [{"name": name, "path": path, "action": draw(st.sampled_from(("allow", "deny")))} for name, path in chosen]


@st.composite
def policies(draw: Any) -> list[RenderedObject]:
    objects = []
    for index in range(draw(st.integers(1, 4))):
        target = draw(st.one_of(st.builds(learned, st.sampled_from(SERVICES), st.sampled_from(NAMESPACES)),
                                selectors()))
        objects.append(cr(target, draw(st.sampled_from(MODES)), ingress=draw(rules()), egress=draw(rules()),
                          process=draw(processes()), baseline=draw(st.sampled_from((None, "basic", "zero-drift"))),
                          name=f"cr{index}"))
    return objects


@st.composite
def endpoints(draw: Any) -> Endpoint:
    kind = draw(st.sampled_from(("workload", "workload", "workload", "external", "nodes")))
    if kind == "nodes":
        return NODE
    if kind == "external":
        return external(draw(st.sampled_from(("203.0.113.7", "198.51.100.9", "api.example.com", "example.com",
                                               "2001:db8::1"))))
    described: dict[str, Any] = {}
    if draw(st.booleans()):
        described["labels"] = draw(st.sampled_from(({}, {"app": "web"}, {"app": "db"})))
    if draw(st.booleans()):
        described["image"] = draw(st.sampled_from(("nginx:1", "postgres:16")))
    if draw(st.booleans()):
        described["namespace_labels"] = draw(st.sampled_from(({}, {"team": "red"})))
    return workload(draw(st.sampled_from(SERVICES)), draw(st.sampled_from(NAMESPACES)), **described)


@st.composite
def questions(draw: Any) -> Flow | tuple[Endpoint, str, str]:
    if draw(st.integers(0, 3)) == 0:
        process = draw(st.sampled_from(("/usr/bin/curl", "/bin/sh", "/bin/nc", "/usr/local/python", "nmap")))
        return (draw(endpoints().filter(lambda e: e.kind == "workload")), process.rsplit("/", 1)[-1],
                process if process.startswith("/") else "")
    protocol = draw(st.sampled_from(("tcp", "tcp", "udp", "icmp", "sctp")))
    return Flow(draw(endpoints()), draw(endpoints()), protocol, draw(st.sampled_from((80, 53, 5432, 5500))),
                draw(st.sampled_from((None, "HTTP", "PostgreSQL"))))


def ask(model: Model, question: Flow | tuple[Endpoint, str, str]) -> Any:
    return model.decide(question) if isinstance(question, Flow) else model.decide_process(*question)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), st.lists(questions(), min_size=1, max_size=12),
       st.builds(Settings, strict_group_mode=st.booleans(), new_service_mode=st.sampled_from(("Discover", "Protect")),
                 profile_baseline=st.sampled_from(("basic", "zero-drift")), icmp_policy=st.booleans(),
                 mode_override=st.sampled_from((None, "Protect")), override_namespace=st.sampled_from((None, "x"))))
def test_the_fast_path_decides_as_a_scan_of_every_rule(objects: list[RenderedObject],
                                                      asked: list[Flow | tuple[Endpoint, str, str]],
                                                      model_settings: Settings) -> None:
    fast = Model(build_policy(objects), model_settings)
    for question in asked + asked:  # twice: a remembered answer must equal a fresh one
        got = ask(fast, question)
        want = ask(reference(objects, model_settings), question)
        assert got == want, f"{question}\nfast: {got}\nscan: {want}"
        assert got.as_json() == want.as_json()
