"""``propose --write``: proposals land in policies/ and the environment file; flagged items never do;
the next render allows exactly the proposed traffic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nvpolicy.source import load_file

from tests import propose_payloads as payloads
from tests.conftest import run_nvpolicy, tree_bytes


def _rendered(project: Path, env: str, out: Path) -> dict[str, dict[str, Any]]:
    result = run_nvpolicy("-C", str(project), "render", "--env", env, "--out", str(out))
    assert result.returncode == 0, result.stderr
    objects = {}
    for path in sorted(out.rglob("*.yaml")):
        if path.name != "kustomization.yaml":
            data = load_file(path)[0].data
            objects[f"{data['kind']} {data['metadata']['name']}"] = data
    return objects


def _rules(obj: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {section: obj["spec"].get(section, []) for section in ("ingress", "egress", "process")}


def test_write_then_render_allows_exactly_the_proposals(example_project: Path, tmp_path: Path) -> None:
    events = tmp_path / "security.json"
    events.write_text(payloads.security_json(), encoding="utf-8")
    before = _rendered(example_project, "dev", tmp_path / "before")
    orders_source = (example_project / "policies/orders.yaml").read_text(encoding="utf-8")

    proposed = run_nvpolicy("-C", str(example_project), "propose", str(events), "--env", "dev", "--format", "json")
    wanted = json.loads(proposed.stdout)["proposals"]
    written = run_nvpolicy("-C", str(example_project), "propose", str(events), "--env", "dev", "--write")
    assert written.returncode == 1, written.stderr
    assert "wrote 4 proposals to environments/dev.yaml, policies/orders.yaml" in written.stderr
    assert "3 flagged items not written" in written.stderr
    assert "note: new peer api-stripe-com: prod, qa" in written.stderr

    after = _rendered(example_project, "dev", tmp_path / "after")
    assert set(after) == set(before)
    for name in before:
        if name != "NvSecurityRule nv.orders.dev":
            assert after[name] == before[name]
    old, new = _rules(before["NvSecurityRule nv.orders.dev"]), _rules(after["NvSecurityRule nv.orders.dev"])
    added = {section: [rule for rule in new[section] if rule not in old[section]] for section in new}
    assert all(rule in new[section] for section in old for rule in old[section])
    assert sorted((s, r["name"]) for s, rules in added.items() for r in rules) == sorted(
        (p["section"], p["rule"]["name"]) for p in wanted)
    stripe = next(r for r in added["egress"] if r["name"] == "orders-to-api-stripe-com-tcp-443")
    assert stripe["selector"] == {"name": "ext.api-stripe-com.dev",
                                  "criteria": [{"key": "address", "op": "=", "value": "api.stripe.com"}]}
    assert stripe["ports"] == "tcp/443" and stripe["applications"] == ["SSL"]
    redis = next(r for r in added["egress"] if r["name"] == "orders-to-redis-tcp-6379")
    assert redis["selector"]["name"] == "nv.redis.dev"
    assert {"name": "jcmd", "action": "allow", "path": "/usr/local/openjdk-17/bin/jcmd"} in added["process"]

    # Flagged items are nowhere in the source or the output.
    everything = b"".join(tree_bytes(example_project / "policies").values()) + b"".join(
        tree_bytes(example_project / "environments").values()) + b"".join(tree_bytes(tmp_path / "after").values())
    for needle in (b"curl", b"/bin/sh", b"203.0.113.50", b"4444"):
        assert needle not in everything
    # Hand-written comments survive the merge.
    new_source = (example_project / "policies/orders.yaml").read_text(encoding="utf-8")
    assert new_source.splitlines()[:4] == orders_source.splitlines()[:4]

    # The next round proposes nothing new: what was proposed is now allowed, flagged items still are not.
    again = run_nvpolicy("-C", str(example_project), "propose", str(events), "--env", "dev", "--format", "json")
    data = json.loads(again.stdout)
    assert data["proposals"] == []
    assert [item["summary"] for item in data["flagged"]] == [item["summary"] for item in
                                                              json.loads(proposed.stdout)["flagged"]]
    assert {p["summary"] for p in wanted} <= set(data["already_allowed"])
    snapshot = tree_bytes(example_project)
    rerun = run_nvpolicy("-C", str(example_project), "propose", str(events), "--env", "dev", "--write")
    assert rerun.returncode == 1  # flagged items still wait for review
    assert tree_bytes(example_project) == snapshot


def test_write_creates_a_policy_for_a_new_service(example_project: Path, tmp_path: Path) -> None:
    payments = ("payments-6f-abc", "payments", "dev")
    events = tmp_path / "violations.json"
    events.write_text(json.dumps({"violations": [
        payloads.violation("p-1", 0, payments, payloads.ORDERS, 8080, apps=["HTTP"], sessions=2),
        payloads.violation("p-2", 5, payments, ("kube-dns-1", "kube-dns", "kube-system"), 53, proto=17,
                           apps=["DNS"]),
    ]}), encoding="utf-8")
    written = run_nvpolicy("-C", str(example_project), "propose", str(events), "--env", "dev", "--write")
    assert written.returncode == 1, written.stderr
    assert (example_project / "policies/payments.yaml").is_file()
    after = _rendered(example_project, "dev", tmp_path / "out")
    payments_rule = after["NvSecurityRule nv.payments.dev"]
    assert payments_rule["spec"]["target"]["policymode"] == "Discover"
    assert [(r["selector"]["name"], r["ports"]) for r in payments_rule["spec"]["egress"]] == [
        ("nv.kube-dns.kube-system", "udp/53"), ("nv.orders.dev", "tcp/8080")]
    # The other environments render it too: only in-cluster services, no new peer to bind.
    assert run_nvpolicy("-C", str(example_project), "render", "--env", "prod", "--out",
                        str(tmp_path / "prod")).returncode == 0


def test_write_needs_an_environment(example_project: Path, tmp_path: Path) -> None:
    events = tmp_path / "e.json"
    events.write_text(payloads.violation_json(), encoding="utf-8")
    result = run_nvpolicy("-C", str(example_project), "propose", str(events), "--namespace", "dev", "--write")
    assert result.returncode == 2
    assert "--write needs --env" in result.stderr


def test_a_write_that_would_not_render_puts_every_file_back(example_project: Path) -> None:
    import pytest
    from nvpolicy.errors import NvPolicyError
    from nvpolicy.learn.propose_write import _write_checked

    before = tree_bytes(example_project)
    broken = {"policies/orders.yaml": "apiVersion: neuvector.com/v1\nkind: NvSecurityRule\nmetadata: {name: x}\n",
              "policies/new.yaml": "kind: Nothing\n"}
    with pytest.raises(NvPolicyError, match="would not render, so nothing was written"):
        _write_checked(example_project, "dev", (), broken)
    assert tree_bytes(example_project) == before
