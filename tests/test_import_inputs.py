"""Import inputs and options: name referral, bad input, --events, sidecars, hyphenated peers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from nvpolicy.errors import SourceError
from nvpolicy.learn.exports import read_exports
from nvpolicy.learn.importer import plan_import
from nvpolicy.learn.ports import lock_ports, read_events

from tests.conftest import run_nvpolicy
from tests.import_helpers import SEED_EXPORT

NS = "feature-6293"
REFERRAL_EXPORT = f"""\
apiVersion: v1
kind: List
items:
- apiVersion: neuvector.com/v1
  kind: NvGroupDefinition
  metadata: {{name: nv.kube-dns.kube-system, namespace: neuvector}}
  spec:
    selector:
      name: nv.kube-dns.kube-system
      criteria:
      - {{key: service, op: =, value: kube-dns.kube-system}}
      - {{key: domain, op: =, value: kube-system}}

---

apiVersion: v1
kind: List
items:
- apiVersion: neuvector.com/v1
  kind: NvSecurityRule
  metadata: {{name: nv.web.{NS}, namespace: {NS}}}
  spec:
    target:
      policymode: Monitor
      selector:
        name: nv.web.{NS}
        criteria:
        - {{key: service, op: =, value: web.{NS}}}
        - {{key: domain, op: =, value: {NS}}}
    egress:
    - {{action: allow, applications: [DNS], name: nv.kube-dns.kube-system-egress-0, ports: any,
       selector: {{name: nv.kube-dns.kube-system, name_referral: true}}}}
    - {{action: allow, applications: [HTTP], name: nv.kube-api.{NS}-egress-1, ports: any,
       selector: {{name: nv.kube-api.{NS}, criteria: [{{key: service, op: =, value: kube-api.{NS}}},
                                                      {{key: domain, op: =, value: {NS}}}]}}}}
    - {{action: allow, applications: [GRPC], name: nv.kube-api.{NS}-egress-2, ports: any,
       selector: {{name: nv.kube-api.{NS}, criteria: [{{key: service, op: =, value: kube-api.{NS}}},
                                                      {{key: domain, op: =, value: {NS}}}]}}}}
    process:
    - {{action: allow, name: nginx, path: /usr/sbin/nginx}}
    - {{action: allow, name: envoy, path: /usr/local/bin/envoy}}
    - {{action: allow, name: pilot-agent, path: /usr/local/bin/pilot-agent}}
    - {{action: allow, name: vault-agent, path: /bin/vault}}
    - {{action: allow, name: pause, path: /pause}}
"""


def test_name_referrals_resolve_and_hyphenated_peers_render(tmp_path: Path) -> None:
    plan = plan_import(read_exports([("export.yaml", REFERRAL_EXPORT)]), NS)
    web = plan.files["web.yaml"][0]
    dns, api, grpc = web["spec"]["egress"]
    assert dns["selector"]["criteria"][0] == {"key": "service", "op": "=", "value": "kube-dns.kube-system"}
    assert api["ports"] == 'tcp/{{ peers["kube-api"].port }}' and api["name"] == "web-to-kube-api"
    assert grpc["ports"] == "any" and grpc["name"] == "web-to-kube-api-2"  # no well-known GRPC port
    assert any("no well-known port for GRPC" in line for line in plan.report.ports_unlocked)
    export = tmp_path / "export.yaml"
    export.write_text(REFERRAL_EXPORT, encoding="utf-8")
    result = run_nvpolicy("-C", str(tmp_path), "import", str(export), "-n", NS, "--env-out", "environments/dev.yaml")
    assert result.returncode == 0, result.stderr
    rendered = run_nvpolicy("-C", str(tmp_path), "render", "--env", "dev", "--out", str(tmp_path / "out"))
    assert rendered.returncode == 0, rendered.stderr
    out = yaml.safe_load((tmp_path / "out" / NS / f"nvsecurityrule-nv.web.{NS}.yaml").read_text(encoding="utf-8"))
    assert [rule["ports"] for rule in out["spec"]["egress"]] == ["udp/53", "tcp/80", "any"]


def test_split_sidecars_moves_proxy_processes_out(tmp_path: Path) -> None:
    (tmp_path / "export.yaml").write_text(REFERRAL_EXPORT, encoding="utf-8")
    (tmp_path / "containers.yaml").write_text("containers:\n  vault-agent: [vault-agent]\n", encoding="utf-8")
    result = run_nvpolicy("-C", str(tmp_path), "import", "export.yaml", "-n", NS, "--containers", "containers.yaml",
                          "--env-out", "environments/dev.yaml")
    assert result.returncode == 0, result.stderr
    assert "web: envoy, pilot-agent -> container istio-proxy" in result.stdout
    documents = list(yaml.safe_load_all((tmp_path / "policies" / "web.yaml").read_text(encoding="utf-8")))
    assert [doc["metadata"]["name"] for doc in documents] == [
        "nv.web.{{ namespace }}", "sidecar.istio-proxy.web.{{ namespace }}", "sidecar.vault-agent.web.{{ namespace }}"]
    assert [p["name"] for p in documents[0]["spec"]["process"]] == ["nginx", "pause"]
    assert [p["name"] for p in documents[1]["spec"]["process"]] == ["envoy", "pilot-agent"]
    assert {"key": "container", "op": "=", "value": "istio-proxy"} in documents[1]["spec"]["target"]["selector"][
        "criteria"]
    rendered = run_nvpolicy("-C", str(tmp_path), "render", "--env", "dev", "--out", str(tmp_path / "out"))
    assert rendered.returncode == 0, rendered.stderr


def test_events_lock_to_observed_ports(tmp_path: Path) -> None:
    violations = {"violations": [
        {"client_service": "orders", "client_domain": NS, "server_service": "postgres", "server_domain": NS,
         "server_port": 6432, "ip_proto": 6, "applications": ["PostgreSQL"]},
    ]}
    observed = read_events(json.dumps(violations), "events.json")
    assert lock_ports(["PostgreSQL"], f"nv.orders.{NS}", f"nv.postgres.{NS}", observed).ports == (("tcp", 6432),)
    (tmp_path / "events.json").write_text(json.dumps(violations), encoding="utf-8")
    result = run_nvpolicy("-C", str(tmp_path), "import", str(SEED_EXPORT), "-n", NS, "--events", "events.json",
                          "--env-out", "environments/dev.yaml")
    assert result.returncode == 0, result.stderr
    assert "tcp/6432 (observed) via peers.postgres.port" in result.stdout
    environment = yaml.safe_load((tmp_path / "environments" / "dev.yaml").read_text(encoding="utf-8"))
    assert environment["peers"]["postgres"]["port"] == 6432


@pytest.mark.parametrize(("text", "message"), [
    ("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: x}}\n",
     "export.yaml:4:3: error: not a NeuVector custom resource"),
    ("kind: List\nitems: {a: 1}\n", "'items' of a List must be a list"),
    ("- 1\n", "expected a NeuVector export"),
    ("", "holds no YAML document"),
])
def test_bad_exports_are_input_errors_with_a_location(text: str, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        read_exports([("export.yaml", text)])
    assert message in caught.value.format_message()


def test_bad_export_through_the_command_exits_2_without_writing(tmp_path: Path) -> None:
    result = run_nvpolicy("-C", str(tmp_path), "import", "-", input="kind: List\nitems: [1]\n")
    assert result.returncode == 2
    assert "<stdin>:2:9: error: a list item must be a NeuVector custom resource" in result.stderr
    assert not (tmp_path / "policies").exists()


def test_output_to_stdout_keeps_the_report_on_stderr(tmp_path: Path) -> None:
    result = run_nvpolicy("-C", str(tmp_path), "import", str(SEED_EXPORT), "-n", NS, "-o", "-")
    assert result.returncode == 0, result.stderr
    documents = list(yaml.safe_load_all(result.stdout))
    assert [doc["metadata"]["name"] for doc in documents] == ["nv.orders.{{ namespace }}",
                                                             "nv.postgres.{{ namespace }}"]
    assert "ports locked:" in result.stderr


# The table of the issue: a learned `ports: any` is locked to these.
@pytest.mark.parametrize(("application", "port"), [
    ("PostgreSQL", ("tcp", 5432)), ("MySQL", ("tcp", 3306)), ("Redis", ("tcp", 6379)), ("RabbitMQ", ("tcp", 5672)),
    ("Kafka", ("tcp", 9092)), ("MongoDB", ("tcp", 27017)), ("Cassandra", ("tcp", 9042)),
    ("ElasticSearch", ("tcp", 9200)), ("HTTP", ("tcp", 80)), ("SSL", ("tcp", 443)), ("DNS", ("udp", 53)),
    ("postgresql", ("tcp", 5432)),  # NeuVector matches application names case-insensitively
])
def test_well_known_ports_of_the_issue(application: str, port: tuple[str, int]) -> None:
    lock = lock_ports([application], "nv.a.ns", "nv.b.ns")
    assert (lock.ports, lock.how) == ((port,), "well-known")


@pytest.mark.parametrize(("events", "message"), [
    ('{"violations": 3}', "events.json: error: 'violations' must be a list (at violations)"),
    ('{"hits": []}', "events.json: error: not a NeuVector event (keys: hits)"),
    ('[{"x": 1}]', "events.json: error: not a NeuVector event (keys: x)"),
    ('{"incidents": [{"proc_name": "java", "reported_timestamp": 1}]}',
     "events.json: error: holds no NeuVector violation or conversation"),
    ('[{"server_port": 5432, "ip_proto": "tcp"}]', "ip_proto must be a protocol number (6 tcp, 17 udp), got 'tcp'"),
    ('[{"server_port": 5432, "ip_proto": 1e400}]', "ip_proto must be a protocol number"),
    ('[{"server_port": "5432"}]', "server_port must be a port number, got '5432' (at server_port)"),
    ('[{"from": "a", "to": "b", "ports": 5}]', "ports must be a list"),
])
def test_malformed_events_are_input_errors(tmp_path: Path, events: str, message: str) -> None:
    (tmp_path / "events.json").write_text(events, encoding="utf-8")
    result = run_nvpolicy("-C", str(tmp_path), "import", str(SEED_EXPORT), "-n", NS, "--events", "events.json")
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "internal error" not in result.stderr
    assert not (tmp_path / "policies").exists()


def test_events_without_violations_lock_to_the_well_known_port() -> None:
    assert read_events('{"violations": []}', "events.json").by_pair == {}


def test_several_files_single_crs_and_multi_document_import_together(tmp_path: Path) -> None:
    single = ("apiVersion: neuvector.com/v1\nkind: NvSecurityRule\n"
              f"metadata: {{name: nv.cache.{NS}, namespace: {NS}}}\n"
              "spec:\n  target:\n    policymode: Monitor\n    selector:\n"
              f"      name: nv.cache.{NS}\n      criteria:\n"
              f"      - {{key: service, op: =, value: cache.{NS}}}\n      - {{key: domain, op: =, value: {NS}}}\n"
              "  process: [{action: allow, name: redis-server, path: /usr/bin/redis-server}]\n")
    (tmp_path / "cache.yaml").write_text(single, encoding="utf-8")
    (tmp_path / "web.yaml").write_text(REFERRAL_EXPORT, encoding="utf-8")  # two documents
    result = run_nvpolicy("-C", str(tmp_path), "import", "cache.yaml", "web.yaml", "-n", NS,
                          "--env-out", "environments/dev.yaml")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "policies").iterdir()) == ["cache.yaml", "web.yaml"]
    assert f"NvSecurityRule {NS}/nv.cache.{NS}" in result.stdout and f"NvSecurityRule {NS}/nv.web.{NS}" in result.stdout
    cache = yaml.safe_load((tmp_path / "policies" / "cache.yaml").read_text(encoding="utf-8"))
    assert cache["metadata"] == {"name": "nv.cache.{{ namespace }}", "namespace": "{{ namespace }}"}
    rendered = run_nvpolicy("-C", str(tmp_path), "render", "--env", "dev", "--out", str(tmp_path / "out"))
    assert rendered.returncode == 0, rendered.stderr


def test_a_deny_rule_keeps_ports_any_and_is_reported(tmp_path: Path) -> None:
    export = REFERRAL_EXPORT.replace("{action: allow, applications: [HTTP]", "{action: deny, applications: [HTTP]")
    (tmp_path / "export.yaml").write_text(export, encoding="utf-8")
    result = run_nvpolicy("-C", str(tmp_path), "import", "export.yaml", "-n", NS, "-o", "-")
    assert result.returncode == 0, result.stderr
    web = next(yaml.safe_load_all(result.stdout))
    deny = next(rule for rule in web["spec"]["egress"] if rule["action"] == "deny")
    assert deny["ports"] == "any" and deny["applications"] == ["HTTP"]
    assert f"egress nv.kube-api.{NS}-egress-1: any (a deny rule: a lock would narrow what it denies)" in result.stderr
