"""What NeuVector accepts is not an error; the apply path (--for), the environment's NeuVector facts and the
source's owner (validate: anyone's files; render/lint: ours) decide the level. Real CLI in a subprocess."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

from nvpolicy.inputs import load_objects
from nvpolicy.rules import CheckSettings
from nvpolicy.validate import validate_objects

from tests.conftest import run_nvpolicy, write_tree

RULE = """\
apiVersion: neuvector.com/v1
kind: NvClusterSecurityRule
metadata:
  name: web
spec:
  target:
    selector: {name: nv.web.shop, criteria: [{key: service, op: "=", value: web.shop},
                                             {key: domain, op: "=", value: shop}]}
"""

# `kubectl get -o yaml` of an accepted CR, with a byte-order mark, server metadata and status.
KUBECTL_GET = """\ufeffapiVersion: neuvector.com/v1
kind: NvSecurityRule
metadata:
  annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}"}
  creationTimestamp: "2026-01-02T03:04:05Z"
  generation: 1
  managedFields:
  - {apiVersion: neuvector.com/v1, fieldsType: FieldsV1, manager: kubectl, operation: Update}
  name: nv.orders.shop
  namespace: shop
  resourceVersion: "123456"
  uid: 0b0b3b0e-0000-4000-8000-000000000000
spec:
  target:
    policymode: Protect
    selector:
      name: nv.orders.shop
      criteria: [{key: service, op: =, value: orders.shop}, {key: domain, op: =, value: shop}]
      mon_metric: false
      grp_sess_cur: 0
      grp_sess_rate: 0
      grp_band_width: 0
  ingress:
  - {name: from-ingress, action: allow, ports: ANY, applications: [any], selector: {name: "Workload:ingress"}}
  egress:
  - name: to-k8s-api
    action: allow
    ports: "tcp/443,"
    selector: {name: nv.ip.kubernetes.default, criteria: [{key: domain, op: =, value: default}]}
  - name: to-labels
    action: allow
    ports: "+5432"
    selector:
      name: db
      criteria: [{key: app.kubernetes.io/name, op: =, value: "pg+replica|primary"}]
  process:
  - {name: "*", action: allow, path: "*"}
  - {name: java, action: allow, path: " /usr/bin/java "}
status: {}
"""


def _validate(tmp_path: Path, text: str, *args: str) -> tuple[int, list[dict[str, object]]]:
    path = tmp_path / "in.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_nvpolicy("validate", str(path), "--format", "json", *args)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)["findings"]


def test_what_neuvector_accepts_passes(tmp_path: Path) -> None:
    code, findings = _validate(tmp_path, KUBECTL_GET)
    assert (code, findings) == (0, [])


def test_unknown_field_is_a_warning_in_validate_and_an_error_in_render(tmp_path: Path) -> None:
    text = RULE + "  ingres: []\n"
    code, findings = _validate(tmp_path, text)
    assert code == 0 and [(f["rule"], f["level"]) for f in findings] == [("unknown-field", "warning")]
    assert "X1" in str(findings[0]["message"])
    project = write_tree(tmp_path / "p", {
        "environments/dev.yaml": "namespace: shop\npolicy_mode: Monitor\n",
        "policies/web.yaml": text,
    })
    rendered = run_nvpolicy("-C", str(project), "render", "--env", "dev")
    assert rendered.returncode == 2 and "unknown field 'ingres'" in rendered.stderr, rendered.stderr
    linted = run_nvpolicy("-C", str(project), "lint", "--env", "dev", "--format", "json")
    assert linted.returncode == 1
    assert [(f["rule"], f["level"]) for f in json.loads(linted.stdout)["findings"]] == [("unknown-field", "error")]


def test_metric_fields_on_a_peer_are_pruned(tmp_path: Path) -> None:
    text = RULE + "  egress:\n    - {name: r, action: allow, selector: {name: nv.db.shop, grp_sess_cur: 5}}\n"
    code, findings = _validate(tmp_path, text)
    assert code == 0 and len(findings) == 1 and "S23" in str(findings[0]["message"])
    code, findings = _validate(tmp_path, RULE.replace("value: shop}]}", "value: shop}], grp_sess_cur: 4294967296}"))
    assert code == 1 and findings[0]["rule"] == "schema"  # S22: a Go uint32


def test_rest_path_skips_rule_names_and_priority_and_reads_text_as_the_import_does(tmp_path: Path) -> None:
    text = RULE + "  egress:\n    - {action: allow, priority: 120, selector: {name: nv.db.shop}}\n"
    code, findings = _validate(tmp_path, text)
    assert code == 1 and sorted(f["rule"] for f in findings) == ["priority", "rule-names"]
    code, findings = _validate(tmp_path, text, "--for", "rest")
    assert code == 0 and [(f["rule"], f["level"]) for f in findings] == [("priority", "warning")]
    mixed = "apiVersion: v1\nkind: List\nitems:\n" + "".join(
        ("- " if index == 0 else "  ") + line + "\n" for index, line in enumerate(RULE.splitlines()))
    mixed += "- {apiVersion: neuvector.com/v1, kind: NvGroupDefinition, metadata: {name: g, namespace: neuvector}, " \
             "spec: {selector: {name: g, criteria: [{key: app, op: '=', value: g}]}}}\n"
    code, findings = _validate(tmp_path, mixed, "--for", "rest")
    assert code == 1 and [f["rule"] for f in findings] == ["rest-import"]
    assert "kind: NvGroupDefinition" in str(findings[0]["message"])


def test_referral_needs_criteria_on_the_rest_path_only(tmp_path: Path) -> None:
    text = ("apiVersion: neuvector.com/v1\nkind: NvGroupDefinition\nmetadata: {name: lb, namespace: neuvector}\n"
            "spec: {selector: {name: lb}}\n---\n"
            + RULE + "  ingress:\n    - {name: r, action: allow, selector: {name: lb, name_referral: true}}\n")
    objects, _ = load_objects([(_write(tmp_path, text), "in.yaml")])
    crd = {(f.rule, f.path[-1] if f.path else "") for f in validate_objects(objects)}
    rest = {(f.rule, f.path[-1] if f.path else "") for f in validate_objects(objects, CheckSettings("rest"))}
    assert ("custom-criteria", "name_referral") not in crd and ("custom-criteria", "name_referral") in rest


def test_controller_namespace_and_federation_are_settings(tmp_path: Path) -> None:
    definition = ("apiVersion: neuvector.com/v1\nkind: NvGroupDefinition\n"
                  "metadata: {name: web, namespace: cattle-neuvector-system}\n"
                  "spec: {selector: {name: web, criteria: [{key: app, op: '=', value: web}]}}\n")
    assert _validate(tmp_path, definition)[0] == 1
    assert _validate(tmp_path, definition, "--controller-namespace", "cattle-neuvector-system") == (0, [])
    learned = ('nv.web.shop, criteria: [{key: service, op: "=", value: web.shop},\n'
               '                                             {key: domain, op: "=", value: shop}]')
    assert learned in RULE
    federal = RULE.replace("name: web\n", "name: fed.web\n").replace(
        learned, 'fed.web, criteria: [{key: app, op: "=", value: web}]')
    code, findings = _validate(tmp_path, federal)
    assert code == 1 and [f["rule"] for f in findings] == ["federation"]
    assert _validate(tmp_path, federal, "--federation-primary") == (0, [])


def test_environment_file_sets_the_controller_namespace(tmp_path: Path) -> None:
    project = write_tree(tmp_path / "p", {
        "environments/rancher.yaml": "namespace: shop\npolicy_mode: Monitor\n"
                                     "neuvector: {controller_namespace: cattle-neuvector-system}\n",
        "policies/g.yaml": "apiVersion: neuvector.com/v1\nkind: NvGroupDefinition\n"
                           "metadata: {name: web, namespace: cattle-neuvector-system}\n"
                           "spec: {selector: {name: web, criteria: [{key: app, op: '=', value: web}]}}\n",
    })
    assert run_nvpolicy("-C", str(project), "render", "--env", "rancher").returncode == 0


def test_a_crd_record_over_512_kib_after_gzip_is_denied(tmp_path: Path) -> None:
    noise = random.Random(13)
    big = "".join(noise.choice(string.ascii_letters + string.digits) for _ in range(720_000))
    text = RULE + f"  ingress:\n    - name: r\n      action: allow\n      selector: {{name: '{big[:60]}', " \
                  f"comment: '{big}', criteria: [{{key: app, op: '=', value: x}}]}}\n"
    code, findings = _validate(tmp_path, text)
    assert code == 1 and "object-size" in {f["rule"] for f in findings}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "in.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_render_list_output_is_valid_rest_import_input(example_project: Path, tmp_path: Path) -> None:
    out = tmp_path / "list"
    rendered = run_nvpolicy("-C", str(example_project), "render", "--env", "dev", "--format", "list", "--out", str(out))
    assert rendered.returncode == 0, rendered.stderr
    checked = run_nvpolicy("validate", str(out), "--for", "rest", "--format", "json")
    assert checked.returncode == 0, checked.stdout
    assert json.loads(checked.stdout)["findings"] == []
    from nvpolicy.nv.rest_import import problems

    assert problems((out / "group-policy.yaml").read_text(encoding="utf-8")) == []


def test_fed_containers_needs_exactly_container_star_on_a_primary(tmp_path: Path) -> None:
    text = ("apiVersion: neuvector.com/v1\nkind: NvClusterSecurityRule\nmetadata:\n  name: fed.containers\nspec:\n"
            "  target:\n    selector: {name: fed.containers, criteria: [{key: app, op: '=', value: x}]}\n")
    objects, _ = load_objects([(_write(tmp_path, text), "in.yaml")])
    primary = CheckSettings(federation_primary=True)
    assert [(f.rule, f.level) for f in validate_objects(objects, primary)] == [("reserved-group", "error")]
    objects, _ = load_objects([(_write(tmp_path, text.replace("fed.containers", "containers")), "in.yaml")])
    assert [(f.rule, f.level) for f in validate_objects(objects)] == [("reserved-group", "warning")]  # S7: ignored


def test_rest_path_drops_the_lines_the_import_drops(tmp_path: Path) -> None:
    # NeuVector's own test input (crdsecurityrule_test.go): tab-only lines around `---`.
    text = RULE + "\t\n---\n\t\n" + RULE.replace("name: web\n", "name: web2\n")
    path = _write(tmp_path, text)
    assert run_nvpolicy("validate", str(path)).returncode == 2  # nvpolicy's YAML reader refuses the tab (crd path)
    result = run_nvpolicy("validate", str(path), "--for", "rest", "--format", "json")
    assert result.returncode == 0 and json.loads(result.stdout)["findings"] == [], result.stdout + result.stderr
