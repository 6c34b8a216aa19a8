"""The checks of the admission, DLP/WAF, compliance, vulnerability and response kinds, against the reference.

Cases are written from ../shared/reference/CONTROLLER-CHECKS.md and the controller source it
cites; the rule docstrings and tests/validate_corpus/ hold one PASS and one FAIL per check.
"""

from __future__ import annotations

from typing import Any

import pytest
import re2
from hypothesis import given
from hypothesis import strategies as st
from nvpolicy.model import RenderedObject
from nvpolicy.nv import admission, response, sensors, vulnerability
from nvpolicy.rules import CheckSettings, RuleContext, federal_name
from nvpolicy.source import load_text
from nvpolicy.validate import validate_objects


def _objects(text: str) -> list[RenderedObject]:
    return [RenderedObject(d.data, d) for d in load_text(text, "x.yaml")]


def _rules_found(text: str) -> set[str]:
    return {finding.rule for finding in validate_objects(_objects(text))}


# --- "refused but valid": what NeuVector accepts passes -------------------------------------

@pytest.mark.parametrize("spec", ["", "spec: {}\n",
                                  "spec: {config: {enable: false, mode: monitor, client_mode: service}}\n"])
def test_admission_rule_without_spec_or_rules_is_valid(spec: str) -> None:
    text = f"apiVersion: neuvector.com/v1\nkind: NvAdmissionControlSecurityRule\nmetadata: {{name: local}}\n{spec}"
    assert _rules_found(text) == set()


def test_admission_export_with_user_rules_is_clean() -> None:
    text = """\
apiVersion: neuvector.com/v1
kind: NvAdmissionControlSecurityRule
metadata: {name: local}
spec:
  config: {enable: true, mode: protect, client_mode: service}
  rules:
    - action: deny
      comment: no root
      containers: [containers, init_containers]
      criteria:
        - {name: runAsRoot, op: "=", value: "true"}
        - {name: namespace, op: notContainsAny, value: "kube-system,cattle-system"}
      disabled: false
      rule_mode: ""
    - action: deny
      criteria:
        - {name: cveScoreCount, op: ">=", value: "7", sub_criteria: [{name: count, op: ">=", value: "3"}]}
        - {name: resourceLimit, op: "", value: "", sub_criteria: [{name: cpuLimit, op: ">", value: "2"}]}
    - action: deny
      criteria:
        - {name: storageClassName, op: containsAny, value: local-path}
        - {name: namespace, op: containsAny, value: dev}
    - action: deny
      criteria:
        - {name: saBindRiskyRole, type: saBindRiskyRole, op: containsTagAny,
           value: "risky_role_view_secret,risky_role_create_pod"}
    - action: allow
      criteria:
        - {name: cveHighCount, op: "<=", value: "10"}
        - {name: user, op: regex, value: "^system:serviceaccount:.*"}
"""
    assert _rules_found(text) == set()


# --- admission criteria (A6-A13) -------------------------------------------------------------

@pytest.mark.parametrize(("action", "criteria", "message"), [
    ("allow", [{"name": "cveHighCount", "op": "<=", "value": "3"}], None),
    ("deny", [{"name": "cveHighCount", "op": "<=", "value": "3"}], "Invalid criterion operator: <="),
    ("deny", [{"name": "violatePssPolicy", "op": "=", "value": "restricted"}], None),
    ("deny", [{"name": "violatePssPolicy", "op": "=", "value": "privileged"}], "Invalid criterion value: privileged"),
    ("deny", [{"name": "pspCompliance", "op": "=", "value": "false"}], "Invalid criterion value: false"),
    ("deny", [{"name": "imageNoOS", "op": "=", "value": " true "}], None),  # trimmed first
    ("deny", [{"name": "cveMediumCount", "op": ">=", "value": "1e400"}], "Invalid criterion value: 1e400"),
    ("allow", [{"name": "imageNoOS", "op": "=", "value": "true"}], "Unsupported criterion name: imageNoOS"),
    ("allow", [{"name": "customPath", "type": "customPath", "value_type": "key", "op": "exist", "value": "",
                "path": "item.spec.hostAliases"}], "Unsupported criterion name: customPath"),
    ("deny", [{"name": "customPath", "type": "customPath", "value_type": "string", "op": "containsAny",
               "value": "x", "path": "item.metadata.name"}], "Invalid criterion value: x"),
    ("deny", [{"name": "customPath", "type": "customPath", "value_type": "boolean", "op": "=", "value": "true",
               "path": "item.spec.hostNetwork"}], None),
    ("deny", [{"name": "saBindRiskyRole", "type": "saBindRiskyRole", "op": "containsTagAny",
               "value": "risky_role_view_secret, risky_role_create_pod"}],  # not a set op: the space stays
     "Invalid criterion value: risky_role_view_secret, risky_role_create_pod"),
    ("deny", [{"name": "namespace", "op": "containsAny", "value": "dev",
               "sub_criteria": [{"name": "count", "op": ">=", "value": "1"}]}], "Invalid criteria options"),
    ("deny", [{"name": "cveScoreCount", "op": ">=", "value": "7",
               "sub_criteria": [{"name": "publishDays", "op": ">=", "value": "1"}]}],
     "Unsupported criterion name: publishDays"),
    ("deny", [{"name": "resourceLimit", "op": "", "value": "",
               "sub_criteria": [{"name": "memoryLimit", "op": ">=", "value": "1"}]}], "Invalid criterion operator: >="),
    ("deny", [{"name": "namespace", "op": "containsAny", "value": "dev"},
              {"name": "storageClassName", "op": "containsAny", "value": "gp2"},
              {"name": "labels", "op": "containsAny", "value": "a=b"}],
     "The StorageClass Name criteria can only be used in conjunction with namespace criteria. Criterion name: labels"),
    ("deny", [{"name": "labels", "op": "!regexContainsAnyEx", "value": "app=.*, (?=x)"}],
     "Invalid criterion value for regex operator: app=.*,(?=x)"),
    ("deny", [{"name": "labels", "op": "regexContainsAnyEx", "value": "app=\\p{L}+"}],
     "Invalid criterion operator: regexContainsAnyEx"),  # compiles in Go, but no criterion offers the op
])
def test_admission_criteria_as_the_controller_checks_them(action: str, criteria: list[dict[str, Any]],
                                                          message: str | None) -> None:
    normalized = admission.normalize(criteria)
    assert normalized is not None
    found = admission.criteria_error(normalized.criteria, admission.options_for(action), action)
    assert (found.message if found else None) == message


def test_admission_normalisation_merges_splits_and_drops() -> None:
    normalized = admission.normalize([
        {"name": "image", "op": "containsAny", "value": "nginx, "},
        {"name": "namespace", "op": "notContainsAny", "value": ","},
        {"name": "image", "op": "containsAny", "value": "redis,nginx"},
        {"name": "resourceLimit", "op": "", "value": " "},
        {"name": "customPath", "type": "customPath", "op": "exist", "value": ""},
    ])
    assert normalized is not None
    assert [(c.name, c.value) for c in normalized.criteria] == [
        ("image", "nginx,redis"), ("resourceLimit", ""), ("customPath", "")]
    assert normalized.dropped == (1,)
    assert admission.normalize([{"name": "image", "op": "containsAny", "value": " "}]) is None


def test_option_tables_have_the_sizes_the_reference_lists() -> None:
    assert len(admission.DENY_OPTIONS) == 37
    assert len(admission.ALLOW_OPTIONS) == 25
    assert set(admission.ALLOW_OPTIONS) < set(admission.DENY_OPTIONS)


# --- DLP/WAF patterns (D12, D13, W12, W13) ---------------------------------------------------

@pytest.mark.parametrize(("written", "converted"), [
    ("*", ".*"), ("?", "."), ("??", ".*"), ("???x", ".*x"), ("a*", "a.*"), ("a?", "a."), ("a??", "a.*"),
    ("a b*", "a b.*"), ("x-*", "x-*"), ("[0-9]?", "[0-9]?"), ("é*", "é*"),
    ("\\d*", "\\d.*"),  # NeuVector's quirk: the 'd' of \d is a letter, so its star is converted
    ("card=?[0-9]{16}", "card=?[0-9]{16}"),
])
def test_dlp_wildcard_conversion(written: str, converted: str) -> None:
    assert sensors.wildcard_to_regexp(written) == converted


_GO_WILDCARDS = re2.compile(r"(^|\pL|\pN|\s)(\?+|\*)")


@given(st.text(alphabet="ab1 \t?*.\\é(", max_size=12))
def test_dlp_wildcard_scan_is_the_go_regexp_replace_all(pattern: str) -> None:
    # RE2 is the engine of Go's regexp: its leftmost-first ReplaceAll is the reference for the hand-written scan.
    reference = _GO_WILDCARDS.sub(lambda match: sensors._replace(match.group(0)), pattern)
    assert sensors.wildcard_to_regexp(pattern) == reference


@pytest.mark.parametrize(("pattern", "ok"), [
    ("(?<=user=)admin", True), ("(?>a+)b", True), ("\\p{L}+", True), ("(?i)select\\s+\\*", True),
    ("a{2,1}", False), ("[z-a]", False), ("union(select", False), ("\\", False),
])
def test_patterns_compile_with_pcre(pattern: str, ok: bool) -> None:
    assert (sensors.pcre_error(pattern) is None) == ok


@pytest.mark.parametrize(("converted", "everything"), [(".*", True), ("..*", True), ("*", True), (".+", False),
                                                       (".*a", False), ("a.*", False)])
def test_match_all(converted: str, everything: bool) -> None:
    assert sensors.matches_everything(converted) == everything


def test_dlp_limits_are_bytes_and_totals_per_rule() -> None:
    patterns = ", ".join(f'{{key: pattern, op: regex, value: "{"é" * 128}{i}", context: body}}' for i in range(5))
    text = ("apiVersion: neuvector.com/v1\nkind: NvDlpSecurityRule\nmetadata: {name: sensor.big}\n"
            f"spec: {{sensor: {{name: sensor.big, rules: [{{name: big, patterns: [{patterns}]}}]}}}}\n")
    findings = [f for f in validate_objects(_objects(text)) if f.rule == "sensor-rules"]
    assert len(findings) == 1 and "total pattern length 1028" in findings[0].message
    assert findings[0].path[-2] == 3  # 4 x 257 bytes (129 characters each): the 4th crosses 1024


# --- response rules (S48-S53, RS2-RS7) -------------------------------------------------------

@pytest.mark.parametrize(("kind", "value", "ok"), [
    ("cve-high", "+5", True), ("cve-high", "05", True), ("cve-high", "0", False), ("cve-high", "-1", False),
    ("cve-high", " 5", False), ("cve-critical-with-fix", "5/30", True), ("cve-critical-with-fix", "5", True),
    ("cve-critical-with-fix", "5/0", False), ("cve-critical-with-fix", "5/30/1", False), ("cve-name", "x", True),
])
def test_cve_report_values(kind: str, value: str, ok: bool) -> None:
    assert (response.value_error(kind, value) is None) == ok


def test_federal_group_event_is_read_without_its_prefix() -> None:
    rule = {"event": "fed.security-event", "conditions": [{"type": "process", "value": "nc"}],
            "actions": ["quarantine"]}
    assert list(response.rule_errors(rule, federal_group=True)) == []
    assert [message for _, message in response.rule_errors(rule)] == ["Unsupported event for response rule"]


def test_group_response_rules_are_checked_in_rule_kinds() -> None:
    text = """\
apiVersion: neuvector.com/v1
kind: NvSecurityRule
metadata: {name: nv.web.shop, namespace: shop}
spec:
  target:
    selector:
      name: nv.web.shop
      criteria: [{key: service, op: "=", value: web.shop}, {key: domain, op: "=", value: shop}]
  response:
    - {policy_name: default, event: security-event, conditions: [{type: level, value: critical}],
       actions: [quarantine]}
    - {policy_name: default, event: compliance, actions: [suppress-log],
       conditions: [{type: name, value: D.1.1.1}, {type: name, value: D.1.1.2}]}
"""
    findings = [f for f in validate_objects(_objects(text)) if f.rule == "response-rule"]
    assert [f.path for f in findings] == [("spec", "response", 1, "conditions", 1, "type")]


# --- vulnerability profile (V3-V8) -----------------------------------------------------------

@pytest.mark.parametrize(("image", "stored"), [("nginx", "nginx:latest"), ("nginx:", "nginx:latest"),
                                               ("lib/nginx:1.2", "lib/nginx:1.2")])
def test_image_filters_get_a_tag(image: str, stored: str) -> None:
    assert vulnerability.image_with_tag(image) == stored


@pytest.mark.parametrize(("entry", "messages"), [
    ({"name": "_RecentVulnWithoutFix"}, []),
    ({"name": "cve-\\p{N}+"}, []),  # RE2 accepts Unicode classes
    ({"name": "CVE-(?=1)"}, ["Invalid vulnerability profile entry name"]),
    ({"name": "x", "images": ["https:reg/app", "reg:5000/app:1", "reg:5000/app"]},
     ["Image filter with registry is not accepted: https:reg/app",
      "Image filter with registry is not accepted: reg:5000/app"]),
    ({"name": "x", "images": ["app[:1"]}, ["Invalid image name: app[:1"]),
])
def test_vulnerability_entries(entry: dict[str, Any], messages: list[str]) -> None:
    assert [message for _, message in vulnerability.entry_errors(entry)] == messages


# --- federation ------------------------------------------------------------------------------

def test_federal_names_pass_on_a_federation_primary() -> None:
    objects = _objects("kind: NvWafSecurityRule\nmetadata: {name: fed.sensor.sqli}\n"
                       "spec: {sensor: {name: fed.sensor.sqli}}\n")
    assert list(federal_name.check(objects, RuleContext())) != []
    primary = RuleContext(settings=CheckSettings(federation_primary=True))
    assert list(federal_name.check(objects, primary)) == []


# --- compliance profile (P2, P3): NeuVector's own negative cases (controller/rest/compliance_test.go) ------

@pytest.mark.parametrize(("test_number", "tags", "rules"), [
    ("<abc>", [], {"compliance-entry"}),
    ("D.1.2.1", ["PCPI"], {"compliance-entry"}),
    ("K.1.2.1", ["NISTY"], {"compliance-entry"}),
    ("K.1.2.1", ["NIST", "PCIv4", "DISA"], set()),
    ("D.1.2.1", [], set()),  # an empty tag list is allowed
])
def test_compliance_entries(test_number: str, tags: list[str], rules: set[str]) -> None:
    text = ("apiVersion: neuvector.com/v1\nkind: NvComplianceProfile\nmetadata: {name: default}\n"
            f"spec: {{templates: {{entries: [{{test_number: '{test_number}', tags: {tags}}}]}}}}\n")
    assert _rules_found(text) == rules
