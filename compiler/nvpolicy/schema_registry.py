"""The project's JSON Schemas, loaded from the package and compiled once per process."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

# The schemas ship as plain files inside the package (package data of the wheel; in this repo
# nvpolicy/schemas links to ../../schemas). Read as files: importlib.resources would cost ~2 ms of
# every start for the same files, as nvpolicy is never imported from a zip.
SCHEMAS = Path(__file__).parent / "schemas"


def schema_names() -> list[str]:
    return sorted(entry.name for entry in SCHEMAS.iterdir() if entry.name.endswith(".schema.json"))


def schema_text(name: str) -> str:
    """A schema's text as shipped, by file name (``environment.schema.json``)."""
    return (SCHEMAS / name).read_text(encoding="utf-8")


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A schema by file name (``environment.schema.json``)."""
    schema: dict[str, Any] = json.loads(schema_text(name))
    return schema


@cache
def _registry() -> Any:
    from referencing import Registry, Resource

    resources_by_name = [(name, Resource.from_contents(load_schema(name))) for name in schema_names()]
    return Registry().with_resources(resources_by_name)


@cache
def reference_validator(name: str) -> Any:
    """jsonschema's Draft 2020-12 validator for one schema file, refs resolved against its siblings."""
    return _strict_pattern_validator()(load_schema(name), registry=_registry())


@cache
def _strict_pattern_validator() -> Any:
    """Draft 2020-12 where a pattern's ``$`` means the end of the text, as in ECMA-262.

    Python's ``$`` also matches before a final newline, so jsonschema alone would take
    ``"nv.a.b\n"`` for a valid name; the compiled validator (Rust regex) already reads ``$`` strictly.
    """
    import re

    from jsonschema import Draft202012Validator, validators
    from jsonschema.exceptions import ValidationError

    def pattern(validator: Any, value: str, instance: Any, schema: Any) -> Any:
        if not validator.is_type(instance, "string"):
            return
        strict = value[:-1] + r"\Z" if value.endswith("$") and not value.endswith("\\$") else value
        if re.search(strict, instance) is None:
            yield ValidationError(f"{instance!r} does not match {value!r}")

    return validators.extend(Draft202012Validator, {"pattern": pattern})  # type: ignore[no-untyped-call]


def best_match(errors: Iterable[Any]) -> Any:
    """jsonschema's most relevant error among errors, or None.

    jsonschema (with referencing, rpds, attrs: ~40 ms of a start) is imported only when there is an
    error to explain; a valid file, checked by the compiled validator alone, never pays for it.
    """
    found = list(errors)
    if not found:
        return None
    from jsonschema.exceptions import best_match as most_relevant

    return most_relevant(found)


class CheckedValidator:
    """jsonschema's validator with a compiled pre-check: a valid instance skips jsonschema's walk.

    ``iter_errors`` yields exactly jsonschema's errors, so callers (``best_match`` over it) see
    no difference; only invalid instances, the rare case, pay for the pure-Python walk, and
    jsonschema's validator is built on first need. Anything else is jsonschema's own attribute.
    """

    def __init__(self, name: str, is_valid: Callable[[Any], bool]) -> None:
        self.name = name
        self._is_valid = is_valid

    @property
    def reference(self) -> Any:
        return reference_validator(self.name)

    def iter_errors(self, instance: Any) -> Iterator[Any]:
        if self._is_valid(instance):
            return iter(())
        errors: Iterator[Any] = self.reference.iter_errors(instance)
        return errors

    def is_valid(self, instance: Any) -> bool:
        return self._is_valid(instance) or bool(self.reference.is_valid(instance))

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.reference, attribute)


@cache
def validator(name: str) -> CheckedValidator:
    """A validator for one schema file: jsonschema's errors, compiled speed for valid instances."""
    from nvpolicy.schema_compiled import compiled

    return CheckedValidator(name, compiled(name))
