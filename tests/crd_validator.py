"""A strict validator built from the REAL published CRDs (``/work/shared/reference/neuvector-crds.yaml``).

The API server prunes fields a structural CRD schema does not list; nvpolicy must never emit
one, so every object schema that lists ``properties`` is closed here (``additionalProperties:
false``) unless it says ``x-kubernetes-preserve-unknown-fields``. The root also gets what the
API server itself knows about every object: ``apiVersion``, ``kind`` and ``metadata``.
Independent of nvpolicy's own schemas on purpose: it checks them against the source of truth.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import yaml
from jsonschema import Draft7Validator

from tests.conftest import CRD_FILE

_METADATA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "namespace": {"type": "string", "minLength": 1},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def _closed(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    result = {key: _closed(value) for key, value in schema.items() if not str(key).startswith("x-kubernetes")}
    if "properties" in schema and "additionalProperties" not in schema \
            and not schema.get("x-kubernetes-preserve-unknown-fields"):
        result["additionalProperties"] = False
    if schema.get("nullable") is True and "type" in schema:
        result["type"] = [schema["type"], "null"]
    result.pop("nullable", None)
    return result


@cache
def crd_validators() -> dict[str, Draft7Validator]:
    """One strict validator per kind, for the version the CRD serves."""
    validators: dict[str, Draft7Validator] = {}
    for crd in yaml.safe_load_all(CRD_FILE.read_text(encoding="utf-8")):
        if not crd or crd.get("kind") != "CustomResourceDefinition":
            continue
        kind = crd["spec"]["names"]["kind"]
        version = next(v for v in crd["spec"]["versions"] if v.get("served", True))
        schema = _closed(version["schema"]["openAPIV3Schema"])
        schema.setdefault("properties", {})
        schema["properties"].update({
            "apiVersion": {"const": f"{crd['spec']['group']}/{version['name']}"},
            "kind": {"const": kind},
            "metadata": _METADATA,
        })
        schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
        schema["additionalProperties"] = False
        validators[kind] = Draft7Validator(schema)
    return validators


def crd_errors(obj: Mapping[str, Any]) -> list[str]:
    """Every way ``obj`` breaks its kind's CRD schema (empty when it conforms)."""
    validator = crd_validators().get(str(obj.get("kind")))
    if validator is None:
        return [f"no CRD for kind {obj.get('kind')!r}"]
    return [f"{'.'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
            for error in validator.iter_errors(obj)]
