"""test, explain, graph and replay as users run them: the installed command on the bundled example."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from xml.etree import ElementTree

import pytest
from nvpolicy.flowmodel.graph import _dot_text, _mermaid_text

from tests.conftest import run_nvpolicy
from tests.fake_controller import APIKEY, FakeController
from tests.propose_payloads import incidents, security_json, violations


def test_bundled_expectations_hold_in_every_environment(example_project: Path) -> None:
    result = run_nvpolicy("-C", str(example_project), "test", "--all", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["environments"] == ["dev", "prod", "qa"]
    assert data["summary"] == {"total": 14, "passed": 14, "failed": 0}
    by_name = {(r["env"], r["name"]): r for r in data["results"]}
    db = by_name[("prod", "orders reaches its database on 5432")]
    assert db["decided_by"]["name"] == "orders-to-db" and db["decided_by"]["location"].startswith("policies/orders")
    assert any("DNS" in text for text in db["assumptions"])  # the FQDN group is matched by name: said, not silent
    curl = by_name[("prod", "curl is denied in prod")]
    assert curl["verdict"] == "deny" and curl["modes"]["client"] == "Protect"


def test_a_failed_expectation_exits_1_and_names_rule_and_line(example_project: Path) -> None:
    (example_project / "expect" / "extra.yaml").write_text(
        "- name: frontend may reach the database\n"
        "  from: {service: frontend}\n  to: {peer: db}\n  port: tcp/5432\n  app: PostgreSQL\n"
        "  expect: allow\n  envs: [prod]\n", encoding="utf-8")
    text = run_nvpolicy("-C", str(example_project), "test", "--env", "prod")
    assert text.returncode == 1
    assert "FAIL [prod] frontend may reach the database: learn (expected allow)" in text.stdout
    assert "expectation at expect/extra.yaml:1:3" in text.stdout
    # Passing expectations are counted, not listed, unless asked; --verbose lists every one.
    assert "PASS" not in text.stdout and text.stdout.endswith(
        "7 passing not listed: --verbose lists each with the rule that decided it and what it assumes\n"
        "7 passed, 1 failed (prod)\n")
    verbose = run_nvpolicy("-C", str(example_project), "test", "--env", "prod", "--verbose")
    assert verbose.returncode == 1 and verbose.stdout.count("\nPASS [prod] ") + verbose.stdout.startswith("PASS") == 7
    assert verbose.stdout.count("FAIL [prod] ") == 1 and "passing not listed" not in verbose.stdout
    junit = run_nvpolicy("-C", str(example_project), "test", "--env", "prod", "--format", "junit")
    assert junit.returncode == 1
    suites = ElementTree.fromstring(junit.stdout)
    suite = suites.find("testsuite")
    assert suite is not None and suite.get("failures") == "1" and suite.get("tests") == "8"
    failures = suites.findall(".//failure")
    assert len(failures) == 1 and "expected allow, got learn" in (failures[0].get("message") or "")


def test_explain_lists_rules_in_decision_order_with_source_lines(example_project: Path) -> None:
    result = run_nvpolicy("-C", str(example_project), "explain", "--env", "dev", "postgres", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["group"] == "nv.postgres.dev" and data["mode"] == "Discover"
    assert [(r["position"], r["name"], r["side"]) for r in data["rules"]] == [
        (2, "orders-to-db", "to"), (4, "orders-to-postgres", "to")]
    assert [r["location"] for r in data["rules"]] == ["policies/orders.yaml:21:7", "policies/postgres.yaml:15:7"]
    text = run_nvpolicy("-C", str(example_project), "explain", "--env", "prod", "orders")
    assert "1. allow ← nv.frontend.orders-prod tcp/8080 HTTP" in text.stdout
    assert "then: what no rule matches: deny (Protect)" in text.stdout


def test_graph_shows_external_addresses_ports_and_applications(example_project: Path) -> None:
    data = json.loads(run_nvpolicy("-C", str(example_project), "graph", "--env", "prod", "--format", "json").stdout)
    nodes = {n["name"]: n for n in data["nodes"]}
    assert nodes["ext.db.orders-prod"]["addresses"] == ["url-to-my-external-db.com"]
    assert nodes["nv.orders.orders-prod"]["mode"] == "Protect"
    edges = {(nodes_by_id(data)[e["from"]], nodes_by_id(data)[e["to"]], e["ports"], tuple(e["applications"]))
             for e in data["edges"]}
    assert ("nv.orders.orders-prod", "ext.db.orders-prod", "tcp/5432", ("PostgreSQL",)) in edges
    mermaid = run_nvpolicy("-C", str(example_project), "graph", "--env", "prod").stdout
    assert mermaid.startswith("flowchart LR") and '-->|"tcp/5432 PostgreSQL"|' in mermaid
    dot = run_nvpolicy("-C", str(example_project), "graph", "--env", "prod", "--format", "dot").stdout
    assert dot.startswith("digraph") and 'label="udp/53 DNS"' in dot


def nodes_by_id(data: dict[str, list[dict[str, str]]]) -> dict[str, str]:
    return {n["id"]: n["name"] for n in data["nodes"]}


def test_graph_labels_are_data_not_syntax() -> None:
    assert _mermaid_text('a"] --> x["b|c') == "a#quot;#93; --#gt; x#91;#quot;b#124;c"
    assert _dot_text('a"; evil [label="x') == '"a\\"; evil [label=\\"x"'


def test_replay_says_what_protect_would_block_and_what_fixes_it(example_project: Path, tmp_path: Path) -> None:
    events = tmp_path / "events.json"
    events.write_text(security_json(), encoding="utf-8")
    result = run_nvpolicy("-C", str(example_project), "replay", "--env", "dev", str(events), "--format", "json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    items = {item["title"]: item for item in data["items"]}
    redis = items["orders.dev → redis.dev tcp/6379 Redis"]
    assert redis["events"] == 3 and redis["sessions"] == 9
    assert redis["now"]["verdict"] == "learn" and redis["in_protect"]["verdict"] == "deny"
    assert redis["proposals"] == ["orders -> redis tcp/6379 Redis"]
    allowed = items["orders.dev → postgres.dev tcp/5432 PostgreSQL"]
    assert not allowed["blocked_in_protect"] and allowed["in_protect"]["decided_by"]["name"] == "orders-to-db"
    curl = items["orders.dev runs /usr/bin/curl"]
    assert curl["blocked_in_protect"] and "flagged" in curl["proposals"][0]
    # Other namespaces keep their modes: only this environment is switched to Protect.
    assert not items["prometheus.monitoring → grafana.monitoring tcp/3000 HTTP"]["blocked_in_protect"]
    assert data["summary"]["blocked_in_protect"] == sum(i["blocked_in_protect"] for i in data["items"]) == 6
    text = run_nvpolicy("-C", str(example_project), "replay", "--env", "dev", str(events))
    assert text.stdout.startswith("Protect readiness of dev: 6 of 11 observed flows and processes")


def test_replay_needs_events_or_a_controller(example_project: Path) -> None:
    result = run_nvpolicy("-C", str(example_project), "replay", "--env", "dev")
    assert result.returncode == 2 and "give event files" in result.stderr


def test_replay_reads_a_controller_through_the_events_client(example_project: Path, fake: FakeController,
                                                              cert: tuple[Path, Path]) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl CLI for a test cert")
    fake.state.violations = violations()
    fake.state.incidents = incidents()
    result = run_nvpolicy("-C", str(example_project), "replay", "--env", "dev", "--controller", fake.url,
                          "--ca-file", str(cert[0]), "--format", "json", env={"NVPOLICY_APIKEY": APIKEY})
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["summary"]["blocked_in_protect"] == 6
    assert [r.path for r in fake.state.requests if r.method == "GET"] == ["/v1/log/violation", "/v1/log/incident"]


def test_no_expectations_is_not_a_failure(example_project: Path) -> None:
    shutil.rmtree(example_project / "expect")
    result = run_nvpolicy("-C", str(example_project), "test", "--all", "--format", "junit")
    assert result.returncode == 0, result.stderr
    assert "no expectations" in result.stderr
    assert ElementTree.fromstring(result.stdout).findall(".//testcase") == []


def test_replay_decides_other_ip_protocols_as_open(example_project: Path) -> None:
    from nvpolicy.flowmodel.load import environment_model
    from nvpolicy.flowmodel.replay import replay
    from nvpolicy.learn.events import parse_events

    from tests.propose_payloads import FRONTEND, ORDERS, violation

    sctp = violation("v-sctp", 0, FRONTEND, ORDERS, 9899, proto=132)
    loaded = environment_model(example_project, "dev")
    result = replay(loaded.model, loaded.rendered.environment, loaded.rendered.objects,
                    parse_events([("sctp.json", json.dumps({"violations": [sctp]}))]))
    [item] = result.items
    assert item.title == "frontend.dev → orders.dev ip-proto-132/9899"
    assert item.in_protect.verdict == "open" and not item.blocked_in_protect
