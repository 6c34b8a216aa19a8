"""Outside data written into source renders to exactly its text: ``learn.literal`` is the one escaping path.

Every string goes the whole way a written file goes: the project's emitter, the project's loader, the
renderer of an environment whose names (``vars.x``, ``namespace``) would change a template.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nvpolicy.emit import dump
from nvpolicy.environment import Environment
from nvpolicy.learn.literal import is_template, literal, literal_tree, printable, service_call
from nvpolicy.render import Renderer
from nvpolicy.source import load_text

ENVIRONMENT = Environment("prod", "orders-prod", "Protect", {}, {"x": "EVALUATED", "http_port": 8080}, {})

# Pieces an attacker (or plain bad luck) puts in a process name, a path, a label or an annotation.
FRAGMENTS = ["{{ vars.x }}", "{{", "}}", "{%", "%}", "{% raw %}", "{% endraw %}", "{#", "#}", "{", "}", "'", '"',
             "\\", "\\x7b", "\n", "\r\n", "\r", "\t", "\x85", "\u2028", "\u202e", "\x00", "\x1b[31m", "é", "😀",
             "{{ namespace }}", "{{ service('x') }}", "' }}", " ", ":", "# ", "- ", "*a", "&a", "!!str", "yes", "08"]
TEXT = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(st.characters(blacklist_categories=("Cs",)))),
                max_size=8).map("".join)


def _rendered(data: dict[str, Any]) -> Any:
    """``data`` written by the emitter, read back by the loader and rendered for ``prod``."""
    document = load_text(dump(data), "policies/x.yaml")[0]
    rendered = Renderer(ENVIRONMENT).render(document)
    assert rendered is not None
    return rendered.data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT, TEXT)
def test_any_text_renders_to_itself_as_a_value_and_as_a_key(value: str, key: str) -> None:
    data = {"kind": "NvSecurityRule", "spec": {"value": literal(value), "labels": {literal(key or "k"): "v"}}}
    assert _rendered(data)["spec"] == {"value": value, "labels": {key or "k": "v"}}


@pytest.mark.parametrize("text", [
    "/tmp/{{ vars.http_port }}",
    "{% raw %}{{ x }}{% endraw %}",
    "{% if true %}a{% endif %}",
    "{# comment #}",
    "a{{b",
    "}}{{",
    "'{{ \\' }}'",
    "line one\r\nline two {{ env }}",
])
def test_known_attacks_render_literally(text: str) -> None:
    assert _rendered({"kind": "NvSecurityRule", "spec": {"path": literal(text)}})["spec"]["path"] == text


def test_the_escaped_form_holds_no_marker_inside_its_one_expression() -> None:
    escaped = literal("{% x %} {{ y }} {# z #}")
    assert escaped.startswith("{{ '") and escaped.endswith("' }}")
    assert not is_template(escaped[2:-2])


def test_text_without_a_marker_is_written_as_it_is() -> None:
    assert literal("/usr/bin/java {x}") == "/usr/bin/java {x}"


def test_literal_tree_escapes_keys_and_values_at_every_depth() -> None:
    data = {"metadata": {"labels": {"{{ vars.x }}": "{% now %}"}, "annotations": {"a": ["{#"]}}}
    escaped = literal_tree(data)
    assert "{{ vars.x }}" not in escaped["metadata"]["labels"]
    assert _rendered({"kind": "NvSecurityRule", **escaped}) == {"kind": "NvSecurityRule", **data}


def test_printable_leaves_no_line_break_of_any_yaml_reader() -> None:
    for text in ("a\nb", "a\rb", "a\x85b", "a\u2028b", "a\u2029b", "a\x1b[2Jb"):
        shown = printable(text)
        assert shown.isprintable() and len(load_text(f"# {shown}\nk: v\n", "x")) == 1


@pytest.mark.parametrize(("service", "namespace"), [
    ("x') }}{{ 'containers", None), ("a", "b', 'c"), ("A", None), ("a_b", None), ("", None), ("a", "a.b"),
])
def test_service_call_never_splices_a_name_that_is_not_dns_1123(service: str, namespace: str | None) -> None:
    with pytest.raises(ValueError):
        service_call(service, namespace)
