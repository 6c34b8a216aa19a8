"""SARIF 2.1.0 for GitHub code scanning: rule metadata with help text, results with project-relative URIs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from nvpolicy import __version__
from nvpolicy.model import Finding
from nvpolicy.report import RuleInfo

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


class Reporter:
    def report(self, findings: Sequence[Finding], rules: Sequence[RuleInfo], environment: str | None = None
               ) -> str:
        known = {rule.id: rule for rule in rules}
        for finding in findings:  # a finding of a rule the caller did not describe still gets metadata
            known.setdefault(finding.rule, RuleInfo(finding.rule, finding.level, finding.rule))
        ordered = sorted(known.values(), key=lambda rule: rule.id)
        index = {rule.id: position for position, rule in enumerate(ordered)}
        run: dict[str, Any] = {
            "tool": {"driver": {
                "name": "nvpolicy",
                "version": __version__,
                "informationUri": "https://github.com/neuvector/neuvector",
                "rules": [_rule(rule) for rule in ordered],
            }},
            "originalUriBaseIds": {"PROJECT": {"description": {"text": "the nvpolicy project directory"}}},
            "results": [_result(finding, index[finding.rule]) for finding in sorted(findings)],
        }
        if environment:  # code scanning tracks (and closes) each environment's alerts on their own
            run["automationDetails"] = {"id": f"nvpolicy/{environment}/"}
        document = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
        return json.dumps(document, indent=2) + "\n"


def _rule(rule: RuleInfo) -> dict[str, Any]:
    from nvpolicy.rules._reference import help_uri

    return {
        "id": rule.id,
        "helpUri": help_uri(rule.id),
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.description},
        "fullDescription": {"text": rule.description},
        "help": {"text": rule.help or rule.description},
        "defaultConfiguration": {"level": _LEVELS.get(rule.level, "none")},
    }


def _artifact(file: str) -> dict[str, str]:
    """Project files relative to PROJECT; a file outside the project (validate /elsewhere/x.yaml) as a file: URI."""
    path = PurePosixPath(file)
    if path.is_absolute():
        return {"uri": path.as_uri()}
    return {"uri": quote(file), "uriBaseId": "PROJECT"}


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    location = finding.location
    physical: dict[str, Any] = {"artifactLocation": _artifact(location.file)}
    if location.line:
        physical["region"] = {"startLine": location.line, "startColumn": max(location.column, 1)}
    message = finding.message if not finding.hint else f"{finding.message}\nhint: {finding.hint}"
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": _LEVELS.get(finding.level, "none"),
        "message": {"text": message},
        "locations": [{"physicalLocation": physical}],
    }
    if finding.object_id is not None and finding.object_id.kind:
        result["locations"][0]["logicalLocations"] = [{"name": str(finding.object_id), "kind": "resource"}]
    return result


def combine(reports: Sequence[tuple[str, str]]) -> str:
    """Several environments' SARIF logs as one log with one run per environment."""
    runs = [run for _, text in reports for run in json.loads(text)["runs"]]
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": runs}, indent=2) + "\n"
