"""Event parsing and proposals: the three REST shapes and NDJSON, aggregation, dedup, flagging, skipping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nvpolicy.errors import SourceError
from nvpolicy.learn.events import parse_events, parse_since, port_spec
from nvpolicy.learn.propose import ports_cover, propose
from nvpolicy.pipeline import render_environment

from tests import propose_payloads as payloads
from tests.conftest import REPO

NEW = [
    "orders -> api.stripe.com tcp/443 SSL",
    "orders -> redis tcp/6379 Redis",
    "prometheus.monitoring -> orders tcp/9090 HTTP",
    "orders: process jcmd (/usr/local/openjdk-17/bin/jcmd)",
]
FLAGGED = [
    "orders -> 203.0.113.50 tcp/4444 any app",
    "orders: process curl (/usr/bin/curl)",
    "orders: process sh (/bin/sh)",
]
ALLOWED = [
    "frontend -> orders tcp/8080 HTTP",
    "orders -> postgres tcp/5432 PostgreSQL",
    "orders: process java (/usr/local/openjdk-17/bin/java)",
]


def _dev() -> tuple[object, object]:
    rendered = render_environment(REPO, "dev")
    return rendered.environment, rendered.objects


def test_the_three_rest_shapes_and_ndjson_read_the_same_events() -> None:
    split = parse_events([("v.json", payloads.violation_json()), ("i.json", payloads.incident_json())])
    security = parse_events([("s.json", payloads.security_json())])
    lines = parse_events([("syslog", payloads.ndjson())])
    for events in (split, security, lines):
        assert sorted(e.id for e in events.network) == sorted(v["id"] for v in payloads.violations())
        assert sorted(e.id for e in events.process) == sorted(i["id"] for i in payloads.incidents())
    assert security.ignored == 1  # the threat


def test_overlapping_dumps_count_each_event_once() -> None:
    events = parse_events([("v.json", payloads.violation_json()), ("s.json", payloads.security_json()),
                           ("n.log", payloads.ndjson())])
    assert len(events.network) == len(payloads.violations())
    assert len(events.process) == len(payloads.incidents())


def test_proposals_are_aggregated_flagged_and_skipped() -> None:
    environment, objects = _dev()
    events = parse_events([("s.json", payloads.security_json())])
    result = propose(events, "dev", environment=environment, rendered=objects)  # type: ignore[arg-type]
    assert [p.summary() for p in result.proposals] == NEW
    assert [p.summary() for p in result.flagged] == FLAGGED
    assert sorted(p.summary() for p in result.allowed) == sorted(ALLOWED)
    redis = result.proposals[1].evidence.as_json()
    assert redis == {"count": 3, "sessions": 9, "first_seen": "2025-11-25T19:47:00Z",
                     "last_seen": "2025-11-25T19:49:00Z", "event_ids": ["v-3", "v-4", "v-5"],
                     "workloads": ["orders-7d9f-abcde", "orders-7d9f-fghij"]}
    jcmd = result.proposals[3]
    assert jcmd.evidence.count == 3 and sorted(jcmd.evidence.event_ids) == ["i-2", "i-3"]  # count 2 + 1
    assert jcmd.rule == {"name": "jcmd", "action": "allow", "path": "/usr/local/openjdk-17/bin/jcmd"}
    stripe = result.proposals[0]
    assert stripe.rule["selector"] == "{{ peer('api-stripe-com') }}"
    assert stripe.binding() == ("api-stripe-com", {"address": "api.stripe.com"})
    prometheus = result.proposals[2]
    assert prometheus.section == "ingress"
    assert prometheus.rule["selector"] == "{{ service('prometheus', 'monitoring') }}"
    curl = result.flagged[1]
    assert "curl is a network tool" in curl.flags and any("parent sh is a shell" in f for f in curl.flags)
    assert "raw IP" in result.flagged[0].flags[0]
    assert any("outside namespace dev" in item for item in result.ignored)


def test_without_an_environment_nothing_is_skipped() -> None:
    events = parse_events([("s.json", payloads.security_json())])
    result = propose(events, "dev")
    assert sorted(p.summary() for p in result.proposals) == sorted(NEW + ALLOWED)
    assert [p.summary() for p in result.flagged] == FLAGGED and result.allowed == []


def test_an_existing_binding_for_the_address_is_reused() -> None:
    environment, objects = _dev()
    from dataclasses import replace

    from nvpolicy.environment import PeerBinding

    bound = replace(environment, peers={**environment.peers,  # type: ignore[type-var]
                                        "payments": PeerBinding("payments", address="api.stripe.com")})
    events = parse_events([("v.json", payloads.violation_json())])
    result = propose(events, "dev", environment=bound, rendered=objects)  # type: ignore[arg-type]
    assert result.proposals[0].rule["selector"] == "{{ peer('payments') }}"


def test_bad_input_is_reported_with_its_line() -> None:
    with pytest.raises(SourceError) as caught:
        parse_events([("n.log", '{"id": "a", "client_name": "x", "server_port": 1}\nnot json here\n')])
    assert "n.log:2" in caught.value.format_message()
    with pytest.raises(SourceError, match="must be a list"):
        parse_events([("x.json", json.dumps({"violations": {"id": 1}}))])
    assert parse_events([("empty", "  \n")]).network == []


def test_since_accepts_durations_and_times() -> None:
    assert parse_since("24h", 100_000.0) == 100_000.0 - 86_400
    assert parse_since("2026-11-20T00:00:00Z", 0) == parse_since("2026-11-20T00:00:00+00:00", 0)
    with pytest.raises(SourceError, match="neither a duration"):
        parse_since("yesterday", 0)


@pytest.mark.parametrize(("rule", "wanted", "expected"), [
    ("any", "tcp/443", True), ("tcp/any", "tcp/443", True), ("udp/any", "tcp/443", False),
    ("80, 8080, 8500-8508, tcp/443, udp/53", "tcp/8501", True), ("8500-8508", "tcp/8509", False),
    ("udp/53", "udp/53", True), ("tcp/53", "udp/53", False), ("icmp", "icmp", True), ("tcp/any", "icmp", False),
])
def test_ports_cover(rule: str, wanted: str, expected: bool) -> None:
    assert ports_cover(rule, wanted) is expected


@settings(max_examples=60, deadline=None)
@given(port=st.integers(1, 65535), proto=st.sampled_from([6, 17]))
def test_a_proposed_port_is_covered_by_itself(port: int, proto: int) -> None:
    event = parse_events([("x", json.dumps(payloads.violation("v", 0, payloads.ORDERS, payloads.REDIS, port,
                                                              proto=proto)))]).network[0]
    spec = port_spec(event)
    assert ports_cover(spec, spec)
    assert not ports_cover(spec, f"{'udp' if proto == 6 else 'tcp'}/{port}")


def test_cli_json_report(tmp_path: Path, example_project: Path) -> None:
    from tests.conftest import run_nvpolicy

    events = tmp_path / "security.json"
    events.write_text(payloads.security_json(), encoding="utf-8")
    result = run_nvpolicy("-C", str(example_project), "propose", str(events), "--env", "dev", "--format", "json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert [p["summary"] for p in data["proposals"]] == NEW
    assert [p["summary"] for p in data["flagged"]] == FLAGGED
    first = data["proposals"][0]
    assert first["peer_binding"] == {"name": "api-stripe-com", "address": "api.stripe.com"}
    assert first["target"] == {"service": "orders", "policy": "nv.orders.{{ namespace }}",
                               "file": "policies/orders.yaml"}
    assert first["evidence"]["event_ids"] == ["v-6", "v-7"] and first["evidence"]["sessions"] == 8
    assert data["flagged"][1]["reasons"][0] == "curl is a network tool"


def test_cli_markdown_from_stdin_and_exit_0_when_all_allowed(example_project: Path) -> None:
    from tests.conftest import run_nvpolicy

    allowed = [v for v in payloads.violations() if v["id"] in ("v-1", "v-2")]
    text = "\n".join(json.dumps(v) for v in allowed)
    result = run_nvpolicy("-C", str(example_project), "propose", "-", "--env", "dev", input=text)
    assert result.returncode == 0, result.stderr
    assert "0 proposals, 0 flagged for review, 2 already allowed." in result.stdout
    report = run_nvpolicy("-C", str(example_project), "propose", "-", "--namespace", "dev",
                          input=payloads.ndjson())
    assert report.returncode == 1
    assert "## Flagged for review (never written)" in report.stdout
    assert "- **why flagged:** egress to a raw IP outside the cluster (203.0.113.50), no FQDN known" in report.stdout
    missing = run_nvpolicy("-C", str(example_project), "propose", "-", input='{"violations": []}')
    assert missing.returncode == 2 and "--namespace" in missing.stderr


def test_a_new_peer_never_takes_the_name_of_another_binding() -> None:
    environment, objects = _dev()
    from dataclasses import replace

    from nvpolicy.environment import PeerBinding

    clash = replace(environment, peers={**environment.peers,  # type: ignore[type-var]
                                        "api-stripe-com": PeerBinding("api-stripe-com", service="stripe-proxy")})
    events = parse_events([("v.json", payloads.violation_json())])
    result = propose(events, "dev", environment=clash, rendered=objects)  # type: ignore[arg-type]
    assert result.proposals[0].binding() == ("api-stripe-com-2", {"address": "api.stripe.com"})


def test_neuvector_syslog_and_webhook_framing_read_like_the_rest_api() -> None:
    """Real NeuVector lines carry LogCommon, so the "is this NeuVector's?" check must let them all through."""
    from_rest = propose(parse_events([("s.json", payloads.security_json())]), "dev")
    for name, text in (("syslog", payloads.syslog_json()), ("webhook", payloads.webhook_json())):
        result = propose(parse_events([(name, text)]), "dev")
        assert [p.summary() for p in result.proposals] == [p.summary() for p in from_rest.proposals], name
        assert [p.summary() for p in result.flagged] == [p.summary() for p in from_rest.flagged], name
    syslog = parse_events([("syslog", payloads.syslog_json())])
    assert syslog.ignored == 2  # the Container.Start event and the threat


def test_key_value_syslog_is_refused_with_the_way_out() -> None:
    syslog = ("<132>1 2025-11-25T19:50:00Z nv neuvector - - - notification=violation,name=Network.Violation,"
              "level=Warning,reported_timestamp=1764100000,reported_at=2025-11-25T19:46:40Z")
    webhook = "level=WARNING,cluster=c,name=Network.Violation,level=Warning,reported_timestamp=1764100000"
    for line in (syslog, webhook):
        with pytest.raises(SourceError) as caught:
            parse_events([("kv.log", line + "\n")])
        message = caught.value.format_message()
        assert "kv.log:1:1: error: a line holds no JSON object" in message
        assert "syslog_in_json" in message and "webhook of type JSON" in message


@pytest.mark.parametrize(("proc", "path", "reason"), [
    ("python3.11", "/usr/local/bin/python3.11", "python is a network tool"),
    ("app", "/usr/bin/perl5.36", "perl is a network tool"),  # renamed, but the executable is perl
    ("x", "/bin/dash", "dash is a shell"),
    ("sh", "/bin/busybox", "sh is a shell"),
])
def test_interpreters_and_shells_are_flagged_by_name_or_executable(proc: str, path: str, reason: str) -> None:
    event = payloads.incident("i-9", 0, payloads.ORDERS, proc, path, "java", "/usr/bin/java")
    result = propose(parse_events([("i.json", json.dumps({"incidents": [event]}))]), "dev")
    assert result.proposals == []
    assert result.flagged[0].flags == [reason]


def test_a_busybox_applet_is_not_flagged_for_its_shared_executable() -> None:
    event = payloads.incident("i-9", 0, payloads.ORDERS, "sleep", "/bin/busybox", "tini", "/tini")
    result = propose(parse_events([("i.json", json.dumps({"incidents": [event]}))]), "dev")
    assert [p.rule for p in result.proposals] == [{"name": "sleep", "action": "allow", "path": "/bin/busybox"}]


def test_package_managers_are_flagged_and_file_incidents_propose_no_process_rule() -> None:
    apk = payloads.incident("i-20", 0, payloads.ORDERS, "apk", "/sbin/apk", "java", "/usr/bin/java")
    touched = payloads.incident("i-21", 1, payloads.ORDERS, "java", "/usr/bin/java", "tini", "/tini",
                                name="Container.FileAccess.Violation")
    updated = payloads.incident("i-22", 2, payloads.ORDERS, "dpkg", "/usr/bin/dpkg", "java", "/usr/bin/java",
                                name="Container.Package.Updated")
    result = propose(parse_events([("i.json", json.dumps({"incidents": [apk, touched, updated]}))]), "dev")
    assert result.proposals == []
    assert [(p.rule["name"], p.flags) for p in result.flagged] == [("apk", ["apk is a package manager"])]
    assert result.ignored == ["1 x Container.FileAccess.Violation incident (no process rule to propose)",
                              "1 x Container.Package.Updated incident (no process rule to propose)"]
