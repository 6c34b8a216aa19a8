"""The 5 real NeuVector files: validated as NeuVector would take them, with the expected findings documented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nvpolicy.inputs import load_objects
from nvpolicy.validate import validate_objects

from tests.conftest import EXAMPLES, run_nvpolicy

# file -> the findings (rule, line, level) validate reports on it, alone.
EXPECTED: dict[str, list[tuple[str, int, str]]] = {
    # A production GUI export: address groups, `namespace: ""`, original_name "", priority 0,
    # dlp/waf on a non-address group. NeuVector imports it as is.
    "hmcts-chart-neuvector_network.yaml": [],
    # Hand-written, quoted ops, odd but valid names (egress group "egress", service = nv.redhat.ns2).
    "neuvector-docs_usingcrd_customized-ns1global.yaml": [],
    # Older export: the cluster-scoped `containers` rule carries `namespace: default` (ignored by
    # Kubernetes: a warning, not an error); `policymode: null` is normalised away.
    "neuvector-docs_usingcrd_global-rules.yaml": [("cluster-namespace", 8, "warning")],
    # The docs' sample export: `null` sections and unquoted `op: =` are fine.
    "neuvector-docs_usingcrd_sample-exported-crd.yaml": [],
    # An address group cannot take a policy mode: the controller refuses `policymode: Monitor` here
    # (issue #1283 saw the rule rejected).
    "neuvector-issue-1283_nvclustersecurityrule-address.yaml": [("policy-mode", 19, "error")],
}


def test_all_five_examples_are_listed() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example(name: str) -> None:
    objects, findings = load_objects([(EXAMPLES / name, name)])
    findings += validate_objects(objects)
    assert sorted((f.rule, f.location.line, f.level) for f in findings) == EXPECTED[name]
    assert all(f.location.file == name for f in findings)


def test_examples_together_meet_across_files(tmp_path: Path) -> None:
    # Both the docs' global rules and the hmcts export define NvClusterSecurityRule `containers`.
    result = run_nvpolicy("validate", str(EXAMPLES), "--format", "json")
    assert result.returncode == 1
    rules = sorted(f["rule"] for f in json.loads(result.stdout)["findings"])
    assert rules == ["cluster-namespace", "duplicate-object", "policy-mode"]
