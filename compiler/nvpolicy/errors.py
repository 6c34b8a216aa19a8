"""One root error type; every error a user can cause is a subclass that knows its exit code.

Core modules raise these and never print; the CLI turns them into one message each.
"""

from __future__ import annotations

from collections.abc import Sequence

from nvpolicy.model import Location, format_path


class NvPolicyError(Exception):
    """Root of every error nvpolicy raises on purpose.

    ``exit_code`` follows the CLI contract: 2 for bad input (the default), 1 for findings or changes.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        path: Sequence[str | int] = (),
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.path = tuple(path)
        self.hint = hint

    def format_message(self) -> str:
        """``file:line:col: error: message (at key.path)`` plus an indented hint line."""
        prefix = f"{self.location}: " if self.location else ""
        where = f" (at {format_path(self.path)})" if self.path else ""
        text = f"{prefix}error: {self.message}{where}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def __str__(self) -> str:
        return self.format_message()


class SourceError(NvPolicyError):
    """A policy, environment or export file cannot be read or parsed."""


class EnvironmentFileError(NvPolicyError):
    """An environment file (or an override) is invalid."""


class RenderError(NvPolicyError):
    """A placeholder cannot be evaluated."""


class RenderBudgetError(RenderError):
    """The render as a whole spent its placeholder budget: it stops at the first such error."""


class SchemaError(NvPolicyError):
    """A rendered object breaks the NeuVector schema or an import check."""


class GateError(NvPolicyError):
    """A publish refused by its gate: lint errors or failed expectations (exit 1, a finding, not bad input)."""

    exit_code = 1


class OutputError(NvPolicyError):
    """The output cannot be written."""


class ErrorGroup(NvPolicyError):
    """Several independent errors found in one pass, reported together (still exit 2)."""

    def __init__(self, errors: Sequence[NvPolicyError], omitted: int = 0) -> None:
        super().__init__(f"{len(errors) + omitted} errors")
        self.errors = tuple(errors)
        self.omitted = omitted

    def format_message(self) -> str:
        lines = [error.format_message() for error in self.errors]
        if self.omitted:
            lines.append(f"... and {self.omitted:,} more error{'s' * (self.omitted != 1)} ({len(self.errors)} shown)")
        return "\n".join(lines)
