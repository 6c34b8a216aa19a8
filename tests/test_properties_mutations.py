"""Random edits of valid projects: each either renders CRD-valid output or fails with an NvPolicyError.

Anything else escaping the pipeline (a KeyError, TypeError, RecursionError, …) would reach the
user as an internal error; this is the net that finds those paths. In-process for speed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nvpolicy.errors import NvPolicyError
from nvpolicy.pipeline import layout, render_environment

from tests.conftest import write_tree
from tests.crd_validator import crd_errors
from tests.property_sources import projects

PLACEHOLDERS = [
    "{{ x }}", "{{ peers.zz.port }}", "{{ 1/0 }}", "{{ namespace ~ }}", "{{ service(1) }}", "{{ peer('nope') }}",
    "{{ ''.__class__ }}", "{{ range(3) }}", "{{ none }}", "{{ [1, 2] }}", "{{ {'a': 1} }}", "{{ env }}",
    "{% if x %}", "{{ peers }}", "{{ service }}", "{{ app_port * 'ab' }}", "{{ 2 ** 70 }}", "{{ -app_port }}",
    "{{ namespace[0] }}", "{{ vars }}", "{{ note|length }}", "{# c #}", "{{", "}}",
]
VALUES = ["[1, 2]", "{a: 1}", "42", "null", "true", "''", "-1", "3.5", "&x a", "*x", "=", "~", "!!str 1", "[]", "{}"]
CHARACTERS = [":", "-", " ", "{", "}", "'", '"', "\t", "\n", "x", "0", "[", "&", "*", "!", "#", "é", "\x00"]


def _mutate(text: str, operation: str, where: int, choice: int) -> str:
    lines = text.splitlines(keepends=True) or [""]
    line = where % len(lines)
    if operation == "delete-line":
        del lines[line]
    elif operation == "duplicate-line":
        lines.insert(line, lines[line])
    elif operation == "flip-character":
        index = where % max(len(text), 1)
        return text[:index] + CHARACTERS[choice % len(CHARACTERS)] + text[index + 1:]
    elif operation == "inject-placeholder":
        index = where % max(len(text), 1)
        return text[:index] + PLACEHOLDERS[choice % len(PLACEHOLDERS)] + text[index:]
    elif operation == "change-type":
        head, sep, _value = lines[line].partition(": ")
        if sep:
            lines[line] = f"{head}: {VALUES[choice % len(VALUES)]}\n"
    return "".join(lines)


MUTATION = st.tuples(
    st.sampled_from(["environments/test.yaml", "policies/app.yaml"]),
    st.sampled_from(["delete-line", "duplicate-line", "flip-character", "inject-placeholder", "change-type"]),
    st.integers(0, 10_000),
    st.integers(0, 100),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(projects(), st.lists(MUTATION, min_size=1, max_size=3))
def test_mutated_projects_render_valid_output_or_fail_cleanly(
    files: dict[str, str], mutations: list[tuple[str, str, int, int]]
) -> None:
    files = dict(files)
    for name, operation, where, choice in mutations:
        files[name] = _mutate(files[name], operation, where, choice)
    with tempfile.TemporaryDirectory() as folder:
        project = write_tree(Path(folder), files)
        try:
            rendered = render_environment(project, "test")
            outputs = layout(rendered.objects)
        except NvPolicyError as error:
            assert error.exit_code == 2
            assert error.format_message()
            return
    assert outputs
    for obj in rendered.objects:
        assert crd_errors(obj.data) == [], obj.data
