"""GitLab code quality (the Code Climate subset GitLab reads), one issue per finding and environment."""

from __future__ import annotations

import json
from collections.abc import Sequence

from nvpolicy.model import Finding
from nvpolicy.report import RuleInfo


class Reporter:
    def report(self, findings: Sequence[Finding], rules: Sequence[RuleInfo], environment: str | None = None
               ) -> str:
        from nvpolicy.ci.codequality import convert
        from nvpolicy.report.json_report import Reporter as JsonReporter

        items = json.loads(JsonReporter().report(findings, rules))["findings"]
        return json.dumps(convert(items, environment), indent=2) + "\n"


def combine(reports: Sequence[tuple[str, str]]) -> str:
    return json.dumps([issue for _, text in reports for issue in json.loads(text)], indent=2) + "\n"
