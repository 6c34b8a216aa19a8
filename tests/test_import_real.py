"""What real exports hold and what the import writes must work at once (issue 14), through the CLI:
kubectl output with a BOM, the written environment's lint, the header, sidecars with --merge, diff's
name mapping, --events as propose reads them, the same-namespace database's ``when:``."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import run_nvpolicy, write_tree
from tests.import_helpers import SEED_EXPORT, export_items, rendered_objects

NS = "feature-6293"


def _kubectl_output() -> str:
    """``kubectl get nvsecurityrules -n NS -o yaml`` of the seed's objects: server metadata and status."""
    items = [item for item in export_items(SEED_EXPORT.read_text(encoding="utf-8"))
             if item["metadata"]["namespace"] == NS]
    for number, item in enumerate(items):
        item["metadata"].update({"uid": f"6f1c-{number}", "resourceVersion": str(4711 + number), "generation": 1,
                                 "creationTimestamp": "2026-11-20T10:00:00Z", "managedFields": [{"manager": "x"}]})
        item["status"] = {"synced": True}
    return yaml.safe_dump({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items})


def test_kubectl_output_with_a_bom_imports_as_the_export_does(tmp_path: Path) -> None:
    from_export = run_nvpolicy("-C", str(tmp_path), "import", str(SEED_EXPORT), "-n", NS, "-o", "-")
    piped = run_nvpolicy("-C", str(tmp_path), "import", "-", "-n", NS, "-o", "-", input="\ufeff" + _kubectl_output())
    assert from_export.returncode == 0 and piped.returncode == 0, piped.stderr
    body = [line for line in piped.stdout.splitlines() if not line.startswith("#")]
    assert body == [line for line in from_export.stdout.splitlines() if not line.startswith("#")]
    assert "uid" not in piped.stdout and "status" not in piped.stdout


def test_the_written_environment_passes_lint_and_names_the_export_relatively(tmp_path: Path) -> None:
    project = write_tree(tmp_path / "project", {"exports/cfgGroupsExport.yaml": SEED_EXPORT.read_text("utf-8")})
    outside = tmp_path / "elsewhere" / "export.yaml"
    outside.parent.mkdir()
    outside.write_text(SEED_EXPORT.read_text(encoding="utf-8"), encoding="utf-8")
    result = run_nvpolicy("-C", str(project), "import", str(project / "exports" / "cfgGroupsExport.yaml"),
                          "-n", NS, "--env-out", "environments/dev.yaml", "--app", "orders")
    assert result.returncode == 0, result.stderr
    env_text = (project / "environments" / "dev.yaml").read_text(encoding="utf-8")
    policy_text = (project / "policies" / "orders" / "orders.yaml").read_text(encoding="utf-8")
    assert env_text.startswith("# yaml-language-server: $schema=../schemas/environment.schema.json\n")
    assert "from exports/cfgGroupsExport.yaml" in env_text and "from exports/cfgGroupsExport.yaml" in policy_text
    assert str(tmp_path) not in env_text + policy_text
    lint = run_nvpolicy("-C", str(project), "lint", "--env", "dev")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "0 errors" in lint.stdout
    second = run_nvpolicy("-C", str(project), "import", str(outside), "-n", NS, "-o", "other.yaml")
    assert second.returncode == 0, second.stderr
    header = (project / "other.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert "from export.yaml," in header and str(tmp_path) not in header


def test_a_database_bound_to_the_own_namespace_still_renders(tmp_path: Path) -> None:
    result = run_nvpolicy("-C", str(tmp_path), "import", str(SEED_EXPORT), "-n", NS)
    assert result.returncode == 0, result.stderr
    write_tree(tmp_path, {
        "environments/bare.yaml": "namespace: shop\npolicy_mode: Monitor\n"
                                  "peers:\n  postgres: {service: postgres, port: 5432}\n",
        "environments/own.yaml": "namespace: shop\npolicy_mode: Monitor\n"
                                 "peers:\n  postgres: {service: postgres, namespace: shop, port: 5432}\n",
        "environments/shared.yaml": "namespace: shop\npolicy_mode: Monitor\n"
                                    "peers:\n  postgres: {service: postgres, namespace: qa-db, port: 5432}\n",
    })
    names = {}
    for env in ("bare", "own", "shared"):
        rendered = run_nvpolicy("-C", str(tmp_path), "render", "--env", env, "--out", str(tmp_path / env))
        assert rendered.returncode == 0, rendered.stderr
        names[env] = sorted(name for _, name in rendered_objects(tmp_path / env))
    assert names["bare"] == names["own"] == ["nv.orders.shop", "nv.postgres.shop"]
    assert names["shared"] == ["nv.orders.shop"]


SIDECAR_EXPORT = f"""\
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
    process:
    - {{action: allow, name: nginx, path: /usr/sbin/nginx}}
    - {{action: allow, name: envoy, path: /usr/local/bin/envoy}}
    - {{action: allow, name: pause, path: /pause}}
"""


def test_sidecars_said_split_accepted_by_lint_removed_on_merge_and_mapped_by_diff(tmp_path: Path) -> None:
    (tmp_path / "export.yaml").write_text(SIDECAR_EXPORT, encoding="utf-8")
    plain = run_nvpolicy("-C", str(tmp_path), "import", "export.yaml", "-n", NS, "--env-out", "environments/dev.yaml")
    assert plain.returncode == 0, plain.stderr
    assert "sidecar processes envoy are allowed in the application group; --split-sidecars" in plain.stdout
    warned = run_nvpolicy("-C", str(tmp_path), "lint", "--env", "dev")
    assert "sidecar-process" in warned.stdout
    # A re-import with --split-sidecars --merge takes envoy out of the application group it wrote before.
    split = run_nvpolicy("-C", str(tmp_path), "import", "export.yaml", "-n", NS, "--split-sidecars", "--merge")
    assert split.returncode == 0, split.stdout + split.stderr
    assert "removed process envoy (moved to its sidecar's group)" in split.stdout
    documents = list(yaml.safe_load_all((tmp_path / "policies" / "web.yaml").read_text(encoding="utf-8")))
    by_name = {doc["metadata"]["name"]: doc for doc in documents}
    assert [p["name"] for p in by_name["nv.web.{{ namespace }}"]["spec"]["process"]] == ["nginx", "pause"]
    assert [p["name"] for p in by_name["sidecar.istio-proxy.web.{{ namespace }}"]["spec"]["process"]] == ["envoy"]
    lint = run_nvpolicy("-C", str(tmp_path), "lint", "--env", "dev")
    assert lint.returncode == 0 and "sidecar-process" not in lint.stdout, lint.stdout
    # diff --against-env maps the sidecar group's name like nv.*/ext.*: the same policy shows no change.
    write_tree(tmp_path, {"environments/qa.yaml": "namespace: qa-namespace\npolicy_mode: Monitor\n"})
    diff = run_nvpolicy("-C", str(tmp_path), "diff", "--env", "qa", "--against-env", "dev", "--format", "json")
    assert diff.returncode == 0, diff.stderr
    assert "sidecar.istio-proxy" not in diff.stdout, diff.stdout


def _violation(**fields: object) -> dict[str, object]:
    return {"reported_timestamp": 1764100000, "client_name": "orders-1", "server_port": 15432, "ip_proto": 6,
            "applications": ["PostgreSQL"], **fields}


def test_events_read_as_propose_reads_them(tmp_path: Path) -> None:
    lines = [
        _violation(id="a", client_service=f"orders.{NS}", client_domain=NS, server_service=f"postgres.{NS}",
                   server_domain=NS),
        _violation(id="b", client_service="orders", client_domain=NS, server_name="External", server_port=53,
                   ip_proto=17, fqdn="kube-dns.example"),
    ]
    (tmp_path / "events.ndjson").write_text("".join(f"<12>Nov 25 nv neuvector: {json.dumps(v)}\n" for v in lines),
                                            encoding="utf-8")
    result = run_nvpolicy("-C", str(tmp_path), "import", str(SEED_EXPORT), "-n", NS, "--events", "events.ndjson",
                          "-o", "-")
    assert result.returncode == 0, result.stderr
    assert "tcp/15432 (observed) via peers.postgres.port" in result.stderr
    assert "udp/53 (well-known; no event of --events matched this rule)" in result.stderr
    # Events that match no rule of the export: said, not silently replaced by the well-known port.
    (tmp_path / "other.json").write_text(json.dumps({"violations": [_violation(
        client_service="cart", client_domain="shop", server_service="db", server_domain="shop")]}), encoding="utf-8")
    unmatched = run_nvpolicy("-C", str(tmp_path), "import", str(SEED_EXPORT), "-n", NS, "--events", "other.json",
                             "-o", "-")
    assert unmatched.returncode == 0, unmatched.stderr
    assert "--events: none of the 1 network event(s) matched a rule of the export" in unmatched.stderr


def test_external_in_any_spelling_or_by_fqdn_locks_the_external_rule(tmp_path: Path) -> None:
    from nvpolicy.learn.ports import read_events

    for fields in ({"server_name": "External"}, {"server_name": "EXTERNAL"}, {"server_id": "external"},
                   {"fqdn": "api.example.com"}):
        observed = read_events(json.dumps([_violation(client_service="orders", client_domain=NS, **fields)]), "e")
        assert observed.between(f"nv.orders.{NS}", "external") == (("tcp", 15432),), fields
    by_fqdn = read_events(json.dumps([_violation(client_service="orders", client_domain=NS, fqdn="Google.com.")]), "e")
    assert by_fqdn.between(f"nv.orders.{NS}", "test", ["google.com"]) == (("tcp", 15432),)


def test_the_event_reader_lives_in_nv_and_its_refusals_are_input_errors() -> None:
    import ast

    import nvpolicy.nv.events as reader
    import pytest
    from nvpolicy.errors import SourceError
    from nvpolicy.learn.events import parse_events

    tree = ast.parse(Path(reader.__file__).read_text(encoding="utf-8"))
    modules = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [m for m in modules if m.startswith("nvpolicy") and not m.startswith("nvpolicy.nv")]
    with pytest.raises(SourceError) as caught:
        parse_events([("e.ndjson", '{"server_port": 80, "client_name": "a"}\n{"server_port": "80"}\n')])
    assert caught.value.format_message() == "e.ndjson:2:1: error: server_port must be a port number, got '80' " \
                                            "(at server_port)"
