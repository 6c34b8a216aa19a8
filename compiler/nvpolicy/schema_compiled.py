"""Compiled validators (jsonschema-rs) over the same ``schemas/`` files, for the valid-object fast path.

jsonschema stays the reference: it finds and explains what is wrong (``best_match``, key paths,
messages). But it walks every keyword in Python, and rendering checks thousands of objects
that are nearly all valid. The compiled validator answers only "is this valid?", hundreds of
times faster; an object it rejects is handed to jsonschema, so every error message is
jsonschema's. A test keeps both in agreement on a corpus of valid and invalid objects.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from nvpolicy.schema_registry import load_schema, schema_names

# The schemas have no $id; they refer to each other by file name (``defs.schema.json#/$defs/…``).
# Any absolute base works as long as every file is registered under it.
BASE_URI = "file:///nvpolicy/schemas/"


@cache
def _registry() -> Any:
    import jsonschema_rs

    return jsonschema_rs.Registry([(BASE_URI + name, load_schema(name)) for name in schema_names()])


@cache
def compiled(name: str) -> Callable[[Any], bool]:
    """``is_valid`` of a compiled Draft 2020-12 validator for one schema file (``nvsecurityrule.schema.json``)."""
    import jsonschema_rs

    validator = jsonschema_rs.Draft202012Validator(load_schema(name), registry=_registry(), base_uri=BASE_URI + name)
    is_valid: Callable[[Any], bool] = validator.is_valid
    return is_valid


def is_valid(name: str, instance: Any) -> bool:
    return compiled(name)(instance)
