"""``file:line:col: [level] message (rule-id)`` per finding, then a count."""

from __future__ import annotations

from collections.abc import Sequence

from nvpolicy.choices import plural
from nvpolicy.model import Finding
from nvpolicy.report import RuleInfo, summary


class Reporter:
    def report(self, findings: Sequence[Finding], rules: Sequence[RuleInfo], environment: str | None = None
               ) -> str:
        lines = []
        for finding in sorted(findings):
            where = f" [{finding.object_id}]" if finding.object_id and finding.object_id.kind else ""
            lines.append(f"{finding.location}: [{finding.level}] {finding.message}{where} ({finding.rule})")
            if finding.hint:
                lines.append(f"  hint: {finding.hint}")
        counts = summary(findings)
        lines.append(f"{plural(counts['error'], 'error')}, {plural(counts['warning'], 'warning')}, "
                     f"{plural(counts['info'], 'note')}")
        return "\n".join(lines) + "\n"
