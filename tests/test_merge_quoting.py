"""``import --merge`` and ``propose --write`` write through ruamel's round trip: every new string must
read back, with nvpolicy's own loader, as the same string (``yes`` is not ``true``, ``1:20`` not 80)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from nvpolicy.emit import dump
from nvpolicy.learn.envfile import merge_environment_text
from nvpolicy.learn.merge import merge_into_text
from nvpolicy.source import load_text

# Plain scalars that YAML 1.1 (nvpolicy's loader), YAML 1.2 (ruamel) or both read as something else.
TRICKY = ["yes", "no", "on", "off", "y", "N", "Yes", "TRUE", "1:20", "190:20:30.15", "0x10", "0o17", "0b101", "1e3",
          "1_000", "08", "010", ".5", "-.inf", ".NaN", "null", "~", "", "=", "<<", "2026-12-06", "+1", "-0",
          "true", "False", "NULL", " x", "x ", "a: b", "# c", "- d", "*e", "&f", "!g", "%h", "@i", "`j", "{k}", "[l]",
          "m\nn", "tab\there", "'", '"', "\\", "é", "\x85", "\u2028"]
SCALAR = st.one_of(st.sampled_from(TRICKY), st.text(st.characters(blacklist_categories=("Cs",)), max_size=12))

EXISTING = {"apiVersion": "neuvector.com/v1", "kind": "NvSecurityRule", "metadata": {"name": "web"},
            "spec": {"target": {"selector": {"name": "web"}},
                     "process": [{"name": "java", "action": "allow", "path": "/usr/bin/java"}]}}


def _object(name: str, labels: dict[str, str], rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "neuvector.com/v1", "kind": "NvSecurityRule",
            "metadata": {"name": name, "labels": labels},
            "spec": {"target": {"selector": {"name": name}}, "process": rules}}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(SCALAR, SCALAR), min_size=1, max_size=4, unique_by=lambda pair: pair[0]),
       st.dictionaries(SCALAR, SCALAR, max_size=4))
def test_merged_output_reads_back_to_the_same_strings(pairs: list[tuple[str, str]], labels: dict[str, str]) -> None:
    rules = [{"name": f"p-{name}", "action": "allow", "path": path} for name, path in pairs]
    matched = {**EXISTING, "spec": {**EXISTING["spec"], "process": rules}}  # same object: rules appended
    added = _object("other", labels, rules)  # a new object: appended whole, label keys included
    result, _ = merge_into_text("# hand-written\n" + dump(EXISTING), "policies/web.yaml", [matched, added])
    documents = [document.data for document in load_text(result.text, "policies/web.yaml")]
    assert documents[0]["spec"]["process"] == EXISTING["spec"]["process"] + rules
    assert documents[1]["metadata"]["labels"] == labels
    assert documents[1]["spec"]["process"] == rules


def test_known_yaml_1_1_traps_are_quoted_in_a_merge() -> None:
    rules = [{"name": value, "action": "allow", "path": value} for value in ("yes", "1:20", "on", "0x10", "~")]
    result, _ = merge_into_text(dump(EXISTING), "policies/web.yaml", [{**EXISTING, "spec": {"process": rules}}])
    process = load_text(result.text, "policies/web.yaml")[0].data["spec"]["process"]
    assert [rule["name"] for rule in process[1:]] == ["yes", "1:20", "on", "0x10", "~"]
    assert "name: 'yes'" in result.text


def test_environment_merge_quotes_new_values() -> None:
    merged = merge_environment_text("namespace: dev\n", "environments/dev.yaml",
                                    {"namespace": "dev", "policy_mode": "on",
                                     "peers": {"db": {"address": "no", "group": "1:20"}}})
    data = load_text(merged.text, "environments/dev.yaml")[0].data
    assert data == {"namespace": "dev", "policy_mode": "on", "peers": {"db": {"address": "no", "group": "1:20"}}}


def test_literals_that_differ_only_in_spaces_or_quotes_are_different_rules() -> None:
    from nvpolicy.learn.literal import literal

    paths = ["/a {{ b", "/a {{b", "/a {{ 'b'", '/a {{ "b"']
    rules = [{"name": "p", "action": "allow", "path": literal(path)} for path in paths]
    merged, _ = merge_into_text(dump(EXISTING), "policies/web.yaml", [{**EXISTING, "spec": {"process": rules}}])
    assert merged.merged == ["policies/web.yaml: NvSecurityRule web: 4 added, 0 already present"]
