"""The publish gate: an environment is published only when lint has no errors and its expectations hold."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nvpolicy.flowmodel.expect import Outcome
from nvpolicy.model import Finding


@dataclass(frozen=True)
class GateResult:
    lint_errors: tuple[Finding, ...]
    failed: tuple[Outcome, ...]
    tested: int

    @property
    def passed(self) -> bool:
        return not self.lint_errors and not self.failed

    def problems(self) -> list[str]:
        lines = [str(finding) for finding in self.lint_errors]
        lines += [f"{o.expectation.location}: expectation {o.expectation.title()!r} expects {o.expectation.expected}, "
                  f"the policy gives {o.decision.verdict} ({o.decision.decided_by()})" for o in self.failed]
        return lines


def check_gate(project: Path, env: str, overrides: Sequence[str] = ()) -> GateResult:
    from nvpolicy.flowmodel.expect import load_expectations, run
    from nvpolicy.flowmodel.load import environment_model
    from nvpolicy.lint import lint_environment

    linted = lint_environment(project, env, overrides)
    errors = tuple(f for f in linted.findings if f.level == "error")
    expectations = load_expectations(project)
    outcomes: list[Outcome] = []
    if expectations and not errors:
        loaded = environment_model(project, env, overrides)
        outcomes = run(loaded.model, loaded.rendered.environment, expectations)
    return GateResult(errors, tuple(o for o in outcomes if not o.passed), len(outcomes))
