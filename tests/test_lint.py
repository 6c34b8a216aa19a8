"""``nvpolicy lint``: the bundled example is clean everywhere; guardrails, configuration and waivers."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from nvpolicy.environment import Environment
from nvpolicy.model import RenderedObject, SourceDocument
from nvpolicy.rules import RuleContext, guard_leak
from nvpolicy.source import load_text

from tests.conftest import REPO, run_nvpolicy, write_tree

SCHEMA = Path(__file__).parent / "sarif-2.1.0-minimal.schema.json"

EXTRA_POLICY = """\
apiVersion: neuvector.com/v1
kind: NvSecurityRule
metadata:
  name: "nv.worker.{{ namespace }}"
  namespace: "{{ namespace }}"
spec:
  target:
    policymode: "{{ policy_mode }}"
    selector: "{{ service('worker') }}"
  egress:
    - name: worker-to-anything
      action: allow
      ports: {ports}
      selector: "{{ service('orders') }}"
  process:
    - {name: curl, action: allow, path: /usr/bin/curl}
"""


def _lint(project: Path, *args: str) -> tuple[int, list[dict[str, object]]]:
    result = run_nvpolicy("-C", str(project), "lint", *args, "--format", "json")
    assert "Traceback" not in result.stderr
    if result.returncode == 2:
        return 2, [{"stderr": result.stderr}]
    return result.returncode, json.loads(result.stdout)["findings"]


@pytest.mark.parametrize("args", [("--env", "dev"), ("--env", "qa"), ("--env", "prod"),
                                  ("--env", "dev", "--set", "namespace=feature-6293")])
def test_bundled_example_is_clean(example_project: Path, args: tuple[str, ...]) -> None:
    result = run_nvpolicy("-C", str(example_project), "lint", *args)
    assert (result.returncode, result.stdout, result.stderr) == (0, "0 errors, 0 warnings, 0 notes\n", "")


def test_make_lint_target() -> None:
    result = subprocess.run(["make", "-s", "lint", "ENV=prod"], cwd=REPO, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout


def test_discover_in_production_points_at_the_source(example_project: Path) -> None:
    code, findings = _lint(example_project, "--env", "prod", "--set", "policy_mode=Discover")
    assert code == 1
    assert [(f["rule"], f["file"], f["line"], f["column"]) for f in findings] == [
        ("allowed-policy-mode", "policies/orders.yaml", 12, 17)]
    assert findings[0]["object"] == {"kind": "NvSecurityRule", "namespace": "orders-prod",
                                     "name": "nv.orders.orders-prod"}


def test_guardrails_on_a_bad_policy(example_project: Path) -> None:
    write_tree(example_project, {"policies/worker.yaml": EXTRA_POLICY.replace("{ports}", "any")})
    code, findings = _lint(example_project, "--env", "prod")
    assert code == 1
    got = sorted((f["rule"], f["level"], f["line"]) for f in findings)
    assert got == [("any-ports", "error", 13), ("production-shell", "warning", 16)]
    # The same in qa: not production, so no shell warning; any-ports still an error.
    code, findings = _lint(example_project, "--env", "qa")
    assert (code, [f["rule"] for f in findings]) == (1, ["any-ports"])


def test_rules_disabled_and_waived_per_environment(example_project: Path) -> None:
    write_tree(example_project, {"policies/worker.yaml": EXTRA_POLICY.replace("{ports}", "any")})
    prod = example_project / "environments/prod.yaml"
    base = prod.read_text(encoding="utf-8")
    prod.write_text(base + "lint:\n  rules:\n    any-ports: {level: off}\n  waivers:\n"
                    "    - {rule: production-shell, object: nv.worker.orders-prod, reason: debugging INC-42, "
                    "expires: 2999-12-31}\n", encoding="utf-8")
    assert _lint(example_project, "--env", "prod") == (0, [])
    prod.write_text(base + "lint:\n  rules:\n    any-ports: {level: warning}\n  waivers:\n"
                    "    - {rule: production-shell, reason: debugging INC-42, expires: 2000-01-31}\n", encoding="utf-8")
    code, findings = _lint(example_project, "--env", "prod")
    assert code == 0  # warnings only
    messages = {f["rule"]: f["message"] for f in findings}
    assert set(messages) == {"any-ports", "production-shell"}
    assert "(waiver expired on 2000-01-31: debugging INC-42)" in str(messages["production-shell"])


@pytest.mark.parametrize(("lint_section", "message"), [
    ("lint:\n  rules:\n    any-port: {level: off}\n", "unknown lint rule 'any-port'"),
    ("lint:\n  rules:\n    ports: {level: off}\n", "'ports' is an import check"),
    ("lint:\n  waivers:\n    - {rule: any-ports}\n", "'reason' is a required property"),
    ("lint:\n  waivers:\n    - {rule: any-ports, reason: x, expires: 2026-02-30}\n", "is not a date"),
])
def test_bad_lint_configuration_exits_2(example_project: Path, lint_section: str, message: str) -> None:
    prod = example_project / "environments/prod.yaml"
    prod.write_text(prod.read_text(encoding="utf-8") + lint_section, encoding="utf-8")
    code, output = _lint(example_project, "--env", "prod")
    assert code == 2 and message in str(output[0]["stderr"])
    assert "environments/prod.yaml:" in str(output[0]["stderr"])


def test_leak_of_another_environments_namespace(example_project: Path) -> None:
    leaked = EXTRA_POLICY.replace("{ports}", "tcp/5432").replace("{{ service('orders') }}",
                                                                 "{{ service('postgres', 'qa-db') }}")
    write_tree(example_project, {"policies/worker.yaml": leaked.replace("    - {name: curl, action: allow, path: "
                                                                        "/usr/bin/curl}\n", "    []\n")})
    code, findings = _lint(example_project, "--env", "prod")
    assert code == 1
    leaks = [(f["line"], f["message"]) for f in findings if f["rule"] == "environment-leak"]
    assert leaks and all(line == 14 for line, _ in leaks)
    assert "'qa-db', which belongs to environments/qa.yaml" in str(leaks[0][1])
    # In qa, qa-db is its own peer namespace: no leak.
    code, findings = _lint(example_project, "--env", "qa")
    assert [f for f in findings if f["rule"] == "environment-leak"] == []


def test_import_check_failures_are_lint_findings(example_project: Path) -> None:
    write_tree(example_project, {"policies/worker.yaml": EXTRA_POLICY.replace("{ports}", "tcp/9000-8000")})
    code, findings = _lint(example_project, "--env", "dev")
    assert code == 1
    assert ("ports", "policies/worker.yaml", 13) in {(f["rule"], f["file"], f["line"]) for f in findings}


def test_lint_sarif_uses_project_relative_uris(example_project: Path) -> None:
    from jsonschema import Draft202012Validator

    write_tree(example_project, {"policies/worker.yaml": EXTRA_POLICY.replace("{ports}", "any")})
    result = run_nvpolicy("-C", str(example_project), "lint", "--env", "prod", "--format", "sarif")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(document)
    run = document["runs"][0]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert uris == {"policies/worker.yaml"}
    rule_ids = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    assert {"any-ports", "production-shell", "environment-leak", "ports"} <= rule_ids


def test_lint_github_format(example_project: Path) -> None:
    result = run_nvpolicy("-C", str(example_project), "lint", "--env", "prod", "--set", "policy_mode=Monitor",
                          "--format", "github")
    assert result.returncode == 1
    assert result.stdout.startswith("::error file=policies/orders.yaml,line=12,col=17,title=allowed-policy-mode::")


def test_leak_rule_finds_unresolved_placeholders() -> None:
    text = "kind: NvSecurityRule\nmetadata: {name: x, namespace: shop}\nspec: {target: {selector: {name: '{{ n }}'}}}\n"
    document: SourceDocument = load_text(text, "x.yaml")[0]
    env = Environment("prod", "shop", "Protect", {}, {}, {})
    hits = list(guard_leak.check([RenderedObject(document.data, document)], RuleContext({}, env)))
    assert [hit.message for hit in hits] == ["unresolved placeholder in '{{ n }}'"]


REGISTRY_POLICY = """\
apiVersion: neuvector.com/v1
kind: NvSecurityRule
metadata:
  name: "nv.img.{{ namespace }}"
  namespace: "{{ namespace }}"
spec:
  target:
    policymode: "{{ policy_mode }}"
    selector: "{{ service('img') }}"
  egress:
    - name: to-registry
      action: allow
      ports: tcp/443
      selector:
        name: registry
        criteria:
          - {key: address, op: "=", value: dev-registry.example.com}
"""


def test_leak_of_a_var_that_another_environment_binds_differently(example_project: Path) -> None:
    envs = example_project / "environments"
    for name, extra in (("dev", "vars:\n  registry: dev-registry.example.com\n  team: orders\n"),
                        ("qa", "vars:\n  registry: registry.example.com\n"),
                        ("prod", "vars:\n  registry: registry.example.com\n")):
        path = envs / f"{name}.yaml"
        path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    write_tree(example_project, {"policies/img.yaml": REGISTRY_POLICY})
    code, findings = _lint(example_project, "--env", "prod")
    leaks = [(f["file"], f["line"], f["message"]) for f in findings if f["rule"] == "environment-leak"]
    assert code == 1 and leaks == [("policies/img.yaml", 17, "'dev-registry.example.com' contains "
                                    "'dev-registry.example.com', which belongs to environments/dev.yaml")]
    # In dev the value is its own; prod's registry.example.com is not inside dev-registry.example.com, and
    # dev's `team: orders`, which prod does not set, is no leak in prod's many 'orders' names.
    assert _lint(example_project, "--env", "dev") == (0, [])


@pytest.mark.parametrize(("text", "leaks"), [
    ("nv.db.qa.example.com", True), ("db.qa.example.com", True), ("x=db.qa.example.com", True),
    ("mydb.qa.example.com", False), ("db.qa.example.com-2", False), ("dev-db.qa.example.com", False),
])
def test_leak_rule_matches_dotted_values_as_whole_names(text: str, leaks: bool) -> None:
    data = ("kind: NvSecurityRule\nmetadata: {name: x, namespace: shop}\n"
            f"spec: {{target: {{selector: {{name: '{text}'}}}}}}\n")
    document: SourceDocument = load_text(data, "x.yaml")[0]
    env = Environment("prod", "shop", "Protect", {}, {}, {})
    context = RuleContext({"foreign": {"db.qa.example.com": "environments/qa.yaml"}}, env)
    hits = list(guard_leak.check([RenderedObject(document.data, document)], context))
    assert bool(hits) is leaks, [hit.message for hit in hits]


CLUSTER_RULE = """\
apiVersion: neuvector.com/v1
kind: NvClusterSecurityRule
metadata:
  name: "api-{{ namespace }}"
spec:
  target:
    selector:
      name: "api-{{ namespace }}"
      criteria:
        - {key: app, op: "=", value: api}
        - {key: domain, op: "=", value: "{{ ns }}"}
"""


def test_a_cluster_rule_targets_a_group_of_the_environments_namespace(example_project: Path) -> None:
    write_tree(example_project, {"policies/api.yaml": CLUSTER_RULE.replace("{{ ns }}", "{{ namespace }}")})
    assert _lint(example_project, "--env", "qa") == (0, [])
    write_tree(example_project, {"policies/api.yaml": CLUSTER_RULE.replace("{{ ns }}", "payments")})
    code, findings = _lint(example_project, "--env", "qa")
    assert code == 1
    assert [(f["rule"], f["file"], f["line"], f["message"]) for f in findings] == [
        ("target-namespace", "policies/api.yaml", 11,
         "the target group 'api-qa-namespace' is in namespace 'payments', not the environment's 'qa-namespace'")]


def test_lint_github_format_annotates_input_errors(example_project: Path) -> None:
    prod = example_project / "environments/prod.yaml"
    prod.write_text(prod.read_text(encoding="utf-8") + "lint:\n  rules:\n    any-port: {level: off}\n",
                    encoding="utf-8")
    result = run_nvpolicy("-C", str(example_project), "lint", "--env", "prod", "--format", "github")
    assert result.returncode == 2
    assert result.stdout.startswith("::error file=environments/prod.yaml,line=11,col=15,title=input-error::"
                                    "unknown lint rule 'any-port'")
    assert "environments/prod.yaml:11:15: error: unknown lint rule 'any-port'" in result.stderr
