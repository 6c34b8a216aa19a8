"""One JSON document: every finding with its location and object, plus counts per level."""

from __future__ import annotations

import json
from collections.abc import Sequence

from nvpolicy.model import Finding, format_path
from nvpolicy.report import RuleInfo, summary


class Reporter:
    def report(self, findings: Sequence[Finding], rules: Sequence[RuleInfo], environment: str | None = None
               ) -> str:
        items = [
            {
                "file": f.location.file,
                "line": f.location.line,
                "column": f.location.column,
                "level": f.level,
                "rule": f.rule,
                "message": f.message,
                "hint": f.hint,
                "object": None if f.object_id is None else
                {"kind": f.object_id.kind, "namespace": f.object_id.namespace, "name": f.object_id.name},
                "path": format_path(f.path) if f.path else None,
            }
            for f in sorted(findings)
        ]
        return json.dumps({"findings": items, "summary": summary(findings)}, indent=2) + "\n"


def combine(reports: Sequence[tuple[str, str]]) -> str:
    """Several environments' reports as ``{"environments": {env: report}}``."""
    return json.dumps({"environments": {env: json.loads(text) for env, text in reports}}, indent=2) + "\n"
