"""``nvpolicy validate`` through the installed command: inputs, formats, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import EXAMPLES, run_nvpolicy, write_tree

SCHEMA = Path(__file__).parent / "sarif-2.1.0-minimal.schema.json"
BAD = "validate_corpus/ports-reversed-range.yaml"

# An export made with use_name_referral: a List of NvGroupDefinition, then the List of rules.
NAME_REFERRAL_EXPORT = """\
apiVersion: v1
items:
- apiVersion: neuvector.com/v1
  kind: NvGroupDefinition
  metadata:
    name: web-tier
    namespace: neuvector
  spec:
    selector:
      comment: ""
      criteria:
      - key: app
        op: =
        value: web
      name: web-tier
kind: List
metadata: null

---

apiVersion: v1
items:
- apiVersion: neuvector.com/v1
  kind: NvClusterSecurityRule
  metadata:
    name: web-tier
    namespace: ""
  spec:
    egress: null
    file: []
    ingress:
    - action: allow
      applications:
      - HTTP
      name: web-tier-ingress-0
      ports: tcp/80
      priority: 0
      selector:
        name: external
        original_name: ""
    process: null
    target:
      policymode: N/A
      selector:
        name: web-tier
        name_referral: true
kind: List
metadata: null
"""


def test_name_referral_export_is_clean_and_needs_its_definitions(tmp_path: Path) -> None:
    write_tree(tmp_path, {"export.yaml": NAME_REFERRAL_EXPORT})
    result = run_nvpolicy("-C", str(tmp_path), "validate", "export.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "0 errors, 0 warnings, 0 notes\nchecked 1 file, 2 NeuVector objects\n"
    rules_only = NAME_REFERRAL_EXPORT.split("\n---\n", 1)[1]
    write_tree(tmp_path, {"export.yaml": rules_only})
    result = run_nvpolicy("-C", str(tmp_path), "validate", "export.yaml")
    # The definitions may already be in the cluster: a note (S55), not an error.
    assert result.returncode == 0
    assert "export.yaml:27:24: [info] group 'web-tier' is referred to by name" in result.stdout
    assert "must exist in namespace 'neuvector'" in result.stdout and "[S55; NeuVector:" in result.stdout
    assert "(name-referral)" in result.stdout


def test_text_format_and_hint() -> None:
    result = run_nvpolicy("-C", str(Path(__file__).parent), "validate", BAD)
    assert result.returncode == 1
    first, hint, summary, checked = result.stdout.splitlines()
    assert first == ("validate_corpus/ports-reversed-range.yaml:17:14: [error] ports 'tcp/8080-8000' are invalid: "
                     "'tcp/8080-8000': a range runs from the lower to the higher port "
                     "[S36; NeuVector: \"Invalid ports format for rule orders-to-peer(under egress section)\"] "
                     "[NvSecurityRule shop/nv.orders.shop] (ports)")
    assert hint.startswith("  hint: ports are like")
    assert summary == "1 error, 0 warnings, 0 notes"
    assert checked == "checked 1 file, 1 NeuVector object"


def test_sarif_has_the_required_structure() -> None:
    from jsonschema import Draft202012Validator

    result = run_nvpolicy("-C", str(Path(__file__).parent), "validate", "validate_corpus", "--format", "sarif")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(document)
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert "ports" in ids and "schema" in ids and len(ids) == len(set(ids))
    assert all(rule["help"]["text"] and rule["shortDescription"]["text"] for rule in rules)
    assert run["results"]
    for result_item in run["results"]:
        assert rules[result_item["ruleIndex"]]["id"] == result_item["ruleId"]
        location = result_item["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        assert uri.startswith("validate_corpus/") and not uri.startswith("/")
        assert location["region"]["startLine"] >= 2


def test_github_annotations() -> None:
    result = run_nvpolicy("-C", str(Path(__file__).parent), "validate", BAD, "--format", "github")
    assert result.returncode == 1
    line = result.stdout.strip()
    assert line.startswith("::error file=validate_corpus/ports-reversed-range.yaml,line=17,col=14,title=ports::")
    assert "\n" not in line and "%0Ahint%3A" not in line and "%0Ahint: ports are like" in line


def test_warnings_alone_exit_zero() -> None:
    result = run_nvpolicy("validate", str(EXAMPLES / "neuvector-docs_usingcrd_global-rules.yaml"))
    assert result.returncode == 0
    assert "[warning]" in result.stdout


def test_unreadable_input_exits_2(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a/bad.yaml": "kind: [unclosed\n", "a/b/dup.yaml": "kind: x\nkind: y\n"})
    result = run_nvpolicy("-C", str(tmp_path), "validate", "a")
    assert result.returncode == 2
    assert "a/bad.yaml:" in result.stderr and "a/b/dup.yaml:2:1: error: duplicate key 'kind'" in result.stderr
    assert "Traceback" not in result.stderr
    missing = run_nvpolicy("-C", str(tmp_path), "validate", "nowhere.yaml")
    assert missing.returncode == 2 and "no such file or directory" in missing.stderr
    wrong_format = run_nvpolicy("-C", str(tmp_path), "validate", "a", "--format", "xml")
    assert wrong_format.returncode == 2 and "is not one of: text, json, sarif, github" in wrong_format.stderr


def test_rendered_output_validates_clean(example_project: Path) -> None:
    for output_format in ("crds", "list"):
        out = example_project / "out" / output_format
        render = run_nvpolicy("-C", str(example_project), "render", "--env", "dev", "--out", str(out),
                              "--format", output_format)
        assert render.returncode == 0, render.stderr
        result = run_nvpolicy("-C", str(example_project), "validate", str(out))
        assert result.returncode == 0
        assert result.stdout.startswith("0 errors, 0 warnings, 0 notes\nchecked ")
        assert result.stdout.endswith((" 3 files, 2 NeuVector objects\n", " 1 file, 2 NeuVector objects\n"))


def test_non_neuvector_documents_are_findings(tmp_path: Path) -> None:
    write_tree(tmp_path, {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "list.yaml": "- 1\n"})
    result = run_nvpolicy("-C", str(tmp_path), "validate", ".", "--format", "json")
    assert result.returncode == 1
    findings = json.loads(result.stdout)["findings"]
    assert [(f["file"], f["rule"]) for f in findings] == [("cm.yaml", "schema"), ("list.yaml", "schema")]


SEVERAL_MISTAKES = """\
apiVersion: neuvector.com/v1
kind: NvClusterSecurityRule
metadata: {name: several}
spec:
  target: {selector: {name: nodes}}
  ingress:
    - name: r1
      action: allow
      ports: tcp/70000
      applications: [HTTP, Foo]
      priority: 101
      selector: {name: "bad name"}
  process:
    - {name: x, action: allow, path: bin/x}
    - {name: y, action: allow, path: /bin/}
"""


def test_every_mistake_of_one_object_is_reported_in_one_run(tmp_path: Path) -> None:
    write_tree(tmp_path, {"several.yaml": SEVERAL_MISTAKES})
    result = run_nvpolicy("-C", str(tmp_path), "validate", "several.yaml", "--format", "json")
    assert result.returncode == 1, result.stderr
    found = [(f["line"], f["rule"]) for f in json.loads(result.stdout)["findings"]]
    # Each told by the rule that knows most about it, not by the schema's generic message.
    assert found == [(9, "ports"), (10, "applications"), (11, "priority"), (12, "group-name"),
                     (14, "process-path"), (15, "process-path")]


def test_sarif_uris_are_relative_inside_the_project_and_file_uris_outside(tmp_path: Path) -> None:
    from jsonschema import Draft202012Validator

    bad = (Path(__file__).parent / BAD).read_text(encoding="utf-8")
    write_tree(tmp_path, {"project/my policies/bad.yaml": bad, "elsewhere/bad.yaml": bad.replace("shop", "shop2")})
    result = run_nvpolicy("-C", str(tmp_path / "project"), "validate", "my policies",
                          str(tmp_path / "elsewhere"), "--format", "sarif")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(document)
    artifacts = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in document["runs"][0]["results"]]
    assert {"uri": "my%20policies/bad.yaml", "uriBaseId": "PROJECT"} in artifacts
    assert {"uri": (tmp_path / "elsewhere" / "bad.yaml").as_uri()} in artifacts


def test_github_format_annotates_unreadable_files_too(tmp_path: Path) -> None:
    write_tree(tmp_path, {"bad.yaml": "kind: [unclosed\n", "dup.yaml": "kind: x\nkind: y\n"})
    result = run_nvpolicy("-C", str(tmp_path), "validate", ".", "--format", "github")
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert [line.split("::")[1] for line in lines] == ["error file=bad.yaml,line=2,col=1,title=input-error",
                                                        "error file=dup.yaml,line=2,col=1,title=input-error"]
    assert "duplicate key 'kind'" in lines[1]
    assert "dup.yaml:2:1: error: duplicate key 'kind'" in result.stderr  # the log keeps the plain message


def test_nothing_to_validate_is_an_error_that_says_where_it_looked(tmp_path: Path) -> None:
    write_tree(tmp_path, {"empty/README.md": "no yaml\n", "kz/kustomization.yaml": "kind: Kustomization\n"})
    for folder, looked in (("empty", "no *.yaml or *.yml file there"),
                           ("kz", "looked at 1 file (kz/kustomization.yaml)")):
        result = run_nvpolicy("-C", str(tmp_path), "validate", folder)
        assert (result.returncode, result.stdout) == (2, "")
        assert f"error: no NeuVector object in {folder}: {looked}" in result.stderr


def test_policy_source_points_at_lint(example_project: Path) -> None:
    result = run_nvpolicy("-C", str(example_project), "validate", "policies")
    assert (result.returncode, result.stdout) == (2, "")
    first = result.stderr.splitlines()[0]
    assert first.startswith("policies/") and "this is nvpolicy source" in first
    assert "nvpolicy lint --env ENV" in result.stderr
    # A lone '{{' (as in a WAF pattern of an export) is data, not a placeholder.
    (example_project / "waf.yaml").write_text(
        "apiVersion: neuvector.com/v1\nkind: NvWafSecurityRule\nmetadata: {name: w}\n"
        "spec: {sensor: {name: w, comment: 'a {{ b', rules: []}}\n", encoding="utf-8")
    assert "nvpolicy source" not in run_nvpolicy("-C", str(example_project), "validate", "waf.yaml").stderr


def test_an_unknown_field_points_at_the_misspelt_key_itself(tmp_path: Path) -> None:
    """A key whose value is a block list or mapping starts a line before its value: the finding names the key's line."""
    (tmp_path / "rule.yaml").write_text(
        "apiVersion: neuvector.com/v1\nkind: NvClusterSecurityRule\nmetadata: {name: web}\nspec:\n"
        "  target:\n    selector:\n      name: nv.web.shop\n"
        "      criteria: [{key: service, op: '=', value: web.shop}, {key: domain, op: '=', value: shop}]\n"
        "  egres:\n    - {name: r, action: allow, selector: {name: nv.db.shop}}\n", encoding="utf-8")
    done = run_nvpolicy("validate", str(tmp_path / "rule.yaml"), "--format", "json")
    finding = next(f for f in json.loads(done.stdout)["findings"] if "egres" in f["message"])
    assert (finding["line"], finding["column"]) == (9, 3)
    assert "did you mean 'egress'?" in finding["hint"]
