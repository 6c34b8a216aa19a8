"""GitHub Actions workflow commands: ``::error file=…,line=…,col=…,title=…::message``."""

from __future__ import annotations

from collections.abc import Sequence

from nvpolicy.errors import ErrorGroup, NvPolicyError
from nvpolicy.model import Finding, Location, format_path
from nvpolicy.report import RuleInfo

_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(command: str, location: Location | None, title: str, message: str) -> str:
    props = []
    if location is not None:
        props.append(f"file={_property(location.file)}")
        if location.line:
            props += [f"line={location.line}", f"col={max(location.column, 1)}"]
    props.append(f"title={_property(title)}")
    return f"::{command} {','.join(props)}::{_data(message)}\n"


class Reporter:
    def report(self, findings: Sequence[Finding], rules: Sequence[RuleInfo], environment: str | None = None
               ) -> str:
        lines = []
        for finding in sorted(findings):
            message = finding.message if not finding.hint else f"{finding.message}\nhint: {finding.hint}"
            lines.append(_annotation(_COMMANDS.get(finding.level, "notice"), finding.location, finding.rule, message))
        return "".join(lines)


def input_errors(error: NvPolicyError) -> str:
    """Annotations for input that could not be read (exit 2), so that a workflow shows them on the file too."""
    errors = error.errors if isinstance(error, ErrorGroup) else (error,)
    return "".join(_annotation("error", e.location, "input-error", _error_text(e)) for e in errors)


def _error_text(error: NvPolicyError) -> str:
    text = f"{error.message} (at {format_path(error.path)})" if error.path else error.message
    return f"{text}\nhint: {error.hint}" if error.hint else text
