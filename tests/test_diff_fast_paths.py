"""The diff's fast paths (identical objects skipped, rendered trees loaded without marks) change
nothing a user sees: what they skip is what the slow path finds nothing in."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from compiler.diff import diff_objects, identical


def _rule(status: Any) -> dict[str, Any]:
    return {"apiVersion": "neuvector.com/v1", "kind": "NvSecurityRule", "metadata": {"name": "a", "namespace": "n"},
            "spec": {"target": {"policymode": "Protect", "selector": {"name": "nv.a.n"}}, "dlp": {"status": status}}}


@pytest.mark.parametrize("before, after", [(1, True), (1, 1.0), (0, False), ("1", 1)])
def test_values_equal_to_python_but_of_another_type_are_still_a_change(before: Any, after: Any) -> None:
    assert not identical(_rule(before), _rule(after))
    result = diff_objects([_rule(before)], [_rule(after)])
    assert [c.details for o in result.objects for c in o.changes] == [(f"spec.dlp.status: {before} -> {after}",)]


def test_identical_objects_are_skipped_and_report_nothing() -> None:
    assert identical(_rule(True), copy.deepcopy(_rule(True)))
    assert diff_objects([_rule(True)], [_rule(True)]).empty


def test_key_order_alone_is_identical_and_list_order_is_not() -> None:
    assert identical({"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1})
    assert not identical({"a": [1, 2]}, {"a": [2, 1]})
    assert not identical({"a": (1, 2)}, {"a": [1, 2]})
