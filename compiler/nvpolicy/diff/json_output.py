"""The JSON shape (``format: nvpolicy-diff/1``); documented in the README, kept stable."""

from __future__ import annotations

import json
from typing import Any

from nvpolicy.diff.model import Change, DiffResult, ObjectDiff

FORMAT = "nvpolicy-diff/1"


def as_json_data(result: DiffResult) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "old": result.old_label,
        "new": result.new_label,
        "summary": result.summary.as_dict(),
        "objects": [_object(obj) for obj in result.objects],
        "crd_managed_groups": [
            {"name": g.name, "role": g.role, "object": _id(g.object_id)} for g in result.managed_groups
        ],
    }


def render_json(result: DiffResult) -> str:
    return json.dumps(as_json_data(result), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def _id(object_id: Any) -> dict[str, str]:
    return {"kind": object_id.kind, "namespace": object_id.namespace, "name": object_id.name}


def _object(obj: ObjectDiff) -> dict[str, Any]:
    return {
        **_id(obj.id),
        "change": obj.change,
        "renamed_from": _id(obj.old_id) if obj.old_id else None,
        "changes": [_change(c) for c in obj.changes],
    }


def _change(change: Change) -> dict[str, Any]:
    return {
        "change": change.change,
        "exposure": change.exposure,
        "section": change.section,
        "rule": change.rule,
        "subject": change.subject,
        "details": list(change.details),
        "old_index": change.old_index,
        "new_index": change.new_index,
        "before": change.before,
        "after": change.after,
    }
