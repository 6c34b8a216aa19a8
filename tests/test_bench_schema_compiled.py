"""The compiled validator (jsonschema-rs) agrees with jsonschema, the reference, on valid and invalid objects.

Rendering trusts the compiled answer for valid objects and asks jsonschema only about the rest,
so a disagreement would let an invalid object through (or, harmlessly, slow a valid one down).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema.exceptions import best_match
from nvpolicy.model import KINDS
from nvpolicy.pipeline import load_policies, render_environment
from nvpolicy.schema_compiled import compiled
from nvpolicy.schema_registry import reference_validator, validator
from nvpolicy.source import load_file

from tests.conftest import EXAMPLES, REPO

ENV_SCHEMA = "environment.schema.json"


def _schema_of(obj: Any) -> str | None:
    kind = obj.get("kind") if isinstance(obj, dict) else None
    return f"{kind.lower()}.schema.json" if kind in KINDS else None


def _valid_objects() -> list[dict[str, Any]]:
    """Rendered objects of the bundled example and of every golden case that renders."""
    projects = [REPO, *(case for case in sorted((REPO / "tests" / "cases").iterdir())
                        if not (case / "expected_error").exists() and (case / "policies").is_dir())]
    objects = []
    for project in projects:
        documents = load_policies(project)
        for env in sorted(p.stem for p in (project / "environments").glob("[!_]*.yaml")):
            objects += [obj.data for obj in render_environment(project, env, (), documents).objects]
    return objects


def _example_objects() -> list[dict[str, Any]]:
    """NeuVector's own export files: real objects, some of which nvpolicy's strict schemas refuse."""
    objects = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for loaded in load_file(path):
            document = loaded.data
            if isinstance(document, dict):
                objects += document.get("items") or [document]
    return [obj for obj in objects if _schema_of(obj)]


VALID = _valid_objects()
CORPUS = VALID + _example_objects()


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))


def _replace(obj: Any, path: tuple[Any, ...], new: Any) -> Any:
    changed = copy.deepcopy(obj)
    if not path:
        return new
    parent = changed
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = new
    return changed


# Values chosen to hit the places validators differ: bool vs integer, 1.0 vs 1, a trailing
# newline against a `$` anchor, case, out-of-range numbers, empty strings and containers.
ODD_VALUES: list[Any] = [True, 1, 1.0, 101, -1, "", "x", "tcp/80\n", "Upper.Case", "*", "=", None, [], {},
                         ["HTTP", "HTTP"], {"unknown": 1}, "tcp/65536", "/a/*b*", "any"]


def _mutants(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for position, (path, value) in enumerate(_leaves(obj)):
        if not path:
            continue
        # Three odd values per place, rotating, so every value meets every kind of place across the corpus.
        for new in (ODD_VALUES[(position + step) % len(ODD_VALUES)] for step in (0, 6, 13)):
            if new != value or type(new) is not type(value):
                yield _replace(obj, path, new)
        if isinstance(value, str):
            yield _replace(obj, path, value + "\n")
            yield _replace(obj, path, value.upper())
        if isinstance(value, dict):
            yield _replace(obj, path, {**value, "extra_field": "x"})
            for key in value:
                yield _replace(obj, path, {k: v for k, v in value.items() if k != key})


def _ends_in_newline(value: Any) -> bool:
    return any(isinstance(leaf, str) and leaf.endswith("\n") for _, leaf in _leaves(value)) or (
        isinstance(value, dict) and any(isinstance(k, str) and k.endswith("\n") for _, v in _leaves(value)
                                        if isinstance(v, dict) for k in v))


def _agree(schema: str, instance: Any) -> None:
    expected = reference_validator(schema).is_valid(instance)
    fast = compiled(schema)(instance)
    # The one known difference: Python's `$` also matches before a final newline, Rust's does not,
    # so jsonschema accepts "nv.a.b\n" as a name and the compiled validator refuses it. That
    # direction is safe (a refused object goes to jsonschema, which decides); the other never happens.
    if fast:
        assert expected, ("compiled validator accepts what jsonschema rejects", schema, instance)
    if not _ends_in_newline(instance):
        assert fast == expected, (schema, instance)


def test_corpus_has_both_kinds_of_object() -> None:
    assert len(VALID) >= 10
    assert all(reference_validator(_schema_of(obj)).is_valid(obj) for obj in VALID)
    assert any(not reference_validator(_schema_of(obj)).is_valid(obj) for obj in CORPUS)


@pytest.mark.parametrize("index", range(len(CORPUS)))
def test_agrees_on_corpus_and_every_single_mutation(index: int) -> None:
    obj = CORPUS[index]
    schema = _schema_of(obj)
    assert schema
    _agree(schema, obj)
    for mutant in _mutants(obj):
        _agree(schema, mutant)


def test_agrees_on_environment_files() -> None:
    for path in sorted((REPO / "environments").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data.setdefault("namespace", "ns")
        _agree(ENV_SCHEMA, data)
        for mutant in _mutants(data):
            _agree(ENV_SCHEMA, mutant)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 70000) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12) | st.sampled_from(["tcp/443", "HTTP", "allow", "=", "nv.a.b", "/bin/sh", "Protect"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, len(VALID) - 1), choice=st.integers(0, 10_000), value=json_values)
def test_agrees_on_random_values_at_random_places(index: int, choice: int, value: Any) -> None:
    obj = VALID[index]
    paths = [path for path, _ in _leaves(obj) if path]
    mutant = _replace(obj, paths[choice % len(paths)], value)
    schema = _schema_of(obj)
    assert schema
    _agree(schema, mutant)


def test_checked_validator_reports_jsonschemas_own_errors(tmp_path: Path) -> None:
    obj = next(o for o in VALID if o["kind"] == "NvSecurityRule")
    bad = _replace(obj, ("spec", "target", "policymode"), "Protecting")
    schema = "nvsecurityrule.schema.json"
    ours = best_match(validator(schema).iter_errors(bad))
    theirs = best_match(reference_validator(schema).iter_errors(bad))
    assert ours is not None and theirs is not None
    assert (ours.message, list(ours.absolute_path)) == (theirs.message, list(theirs.absolute_path))
    assert list(validator(schema).iter_errors(obj)) == []
    assert validator(schema).schema is reference_validator(schema).schema  # everything else is jsonschema's
