"""GitHub Actions workflow commands: ``::error file=…,line=…,col=…,title=…::message``."""

from __future__ import annotations

from collections.abc import Sequence

from compiler.model import Finding
from compiler.report import RuleInfo

_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


class Reporter:
    def report(self, findings: Sequence[Finding], rules: Sequence[RuleInfo]) -> str:
        lines = []
        for finding in sorted(findings):
            location = finding.location
            props = [f"file={_property(location.file)}"]
            if location.line:
                props += [f"line={location.line}", f"col={max(location.column, 1)}"]
            props.append(f"title={_property(finding.rule)}")
            message = finding.message if not finding.hint else f"{finding.message}\nhint: {finding.hint}"
            lines.append(f"::{_COMMANDS.get(finding.level, 'notice')} {','.join(props)}::{_data(message)}")
        return "".join(line + "\n" for line in lines)
