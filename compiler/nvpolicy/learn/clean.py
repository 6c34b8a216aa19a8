"""The normalisations an import applies to every exported object, before any lifting.

They drop what NeuVector writes on export but that carries no policy:

- ``null`` or empty sections and lists, ``policymode: null``;
- ``comment: ""``, ``original_name: ""``, ``priority: 0``, ``allow_update: false``;
- dlp/waf stubs without settings;
- ``status`` and the metadata the API server adds (``kubectl get -o yaml``);
- the ``namespace`` of cluster-scoped kinds (``""`` or ``default`` in exports).

The ``process_profile`` baseline is kept. The README lists these as the documented normalisations.
"""

from __future__ import annotations

from typing import Any

from nvpolicy.model import CLUSTER_KINDS

# What `kubectl get -o yaml` adds (uid, resourceVersion, managedFields, …) is the cluster's, not policy.
_METADATA = ("name", "namespace", "labels", "annotations")
_VOLATILE_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
_DEFAULTS: dict[str, Any] = {"comment": "", "original_name": "", "priority": 0}


def clean_object(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of one exported object without volatile or default fields."""
    cleaned = _clean(obj)
    assert isinstance(cleaned, dict)
    cleaned.pop("status", None)
    metadata = {key: value for key, value in (cleaned.get("metadata") or {}).items() if key in _METADATA}
    annotations = {key: value for key, value in (metadata.get("annotations") or {}).items()
                   if key not in _VOLATILE_ANNOTATIONS}
    metadata.pop("annotations", None)
    if annotations:
        metadata["annotations"] = annotations
    cleaned["metadata"] = metadata
    if cleaned.get("kind") in CLUSTER_KINDS:
        metadata.pop("namespace", None)
    spec = cleaned.get("spec")
    if isinstance(spec, dict):
        for key in ("dlp", "waf"):
            if isinstance(spec.get(key), dict) and not spec[key].get("settings"):
                del spec[key]
    return cleaned


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            item = _clean(item)
            if item is None or item == [] or item == {}:
                continue
            if key in _DEFAULTS and item == _DEFAULTS[key] and not isinstance(item, bool):
                continue
            if key == "allow_update" and item is False:
                continue
            result[key] = item
        return result
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value
