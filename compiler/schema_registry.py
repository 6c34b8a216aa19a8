"""The project's JSON Schemas, loaded from the package and compiled once per process."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


def schema_names() -> list[str]:
    folder = resources.files("compiler") / "schemas"
    return sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".schema.json"))


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A schema by file name (``environment.schema.json``)."""
    text = (resources.files("compiler") / "schemas" / name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _registry() -> Any:
    from referencing import Registry, Resource

    resources_by_name = [(name, Resource.from_contents(load_schema(name))) for name in schema_names()]
    return Registry().with_resources(resources_by_name)


@cache
def validator(name: str) -> Any:
    """A compiled Draft 2020-12 validator for one schema file, refs resolved against its siblings."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(name), registry=_registry())
