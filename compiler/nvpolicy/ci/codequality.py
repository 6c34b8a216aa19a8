"""Convert `nvpolicy lint --format json` output files into one GitLab code-quality report.

    nvpolicy ci codequality reports/lint/*.json -o gl-code-quality-report.json

Each file is one environment's report, named after it (reports/lint/prod.json): {"findings":
[{file, line, column, level, rule, message, hint, object, path}], "summary": {...}} (a bare list of
findings, or a "location" of {"file", "line"} or "file:line:col", is read too). Writes the Code
Climate subset GitLab reads: description, check_name, fingerprint, severity, location.path and
location.lines.begin. A finding on a shared source line appears once per environment, its
description prefixed with the environment, so that every fingerprint is unique. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from nvpolicy.errors import NvPolicyError
from nvpolicy.source import read_text

SEVERITY = {"error": "major", "warning": "minor", "info": "info"}


def location(finding: dict[str, Any]) -> tuple[str, int]:
    where = finding.get("location", finding)
    if isinstance(where, str):
        file, _, rest = where.partition(":")
        line = rest.split(":", 1)[0]
        return file, int(line) if line.isdigit() else 1
    return str(where.get("file") or ""), int(where.get("line") or 1)


def subject(finding: dict[str, Any]) -> str:
    """The object and key path a finding is about, for the fingerprint."""
    obj = finding.get("object")
    if isinstance(obj, dict):
        obj = "/".join(str(obj.get(key) or "") for key in ("kind", "namespace", "name"))
    return f"{obj or finding.get('object_id') or ''}|{finding.get('path') or ''}"


def convert(findings: list[dict[str, Any]], env: str | None = None) -> list[dict[str, Any]]:
    issues = []
    for finding in findings:
        path, line = location(finding)
        rule = str(finding.get("rule") or finding.get("rule_id") or finding.get("id") or "nvpolicy")
        message = str(finding.get("message", ""))
        key = f"{env or ''}|{rule}|{path}|{subject(finding)}|{message}"  # no line: a shifted line is no new issue
        issues.append({
            "description": f"[{env}] {message}" if env else message,
            "check_name": rule,
            "fingerprint": hashlib.sha256(key.encode()).hexdigest(),
            "severity": SEVERITY.get(str(finding.get("level", "error")), "major"),
            "location": {"path": path, "lines": {"begin": line}},
        })
    return issues


def report(files: list[Path]) -> str:
    """One GitLab code-quality report from lint JSON files named after their environments."""
    issues: list[dict[str, Any]] = []
    for path in files:
        try:
            text = read_text(path, str(path))  # bounded, regular files only (nvpolicy._fs)
            data = json.loads(text) if text.strip() else []
        except (OSError, ValueError) as exc:
            raise NvPolicyError(f"{path}: not a lint JSON report ({exc})",
                                hint="write it with: nvpolicy lint --env ENV --format json -o FILE") from None
        issues.extend(convert(data["findings"] if isinstance(data, dict) else data, path.stem))
    return json.dumps(issues, indent=2) + "\n"
