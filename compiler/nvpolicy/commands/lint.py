"""``nvpolicy lint``: render an environment without writing; import checks plus the environment's guardrails."""

from __future__ import annotations

from typing import Annotated

import typer

ORDER = 30
EXAMPLES = """\
Examples:

  nvpolicy lint --env prod

  nvpolicy lint --env dev --set namespace=feature-6293

  nvpolicy lint --env qa --format sarif > lint.sarif

Exit codes: 0 nothing at error level, 1 findings at error level, 2 input errors.
Configure the guardrails in environments/<env>.yaml under production: and lint:.
"""


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(lint)


def lint(
    ctx: typer.Context,
    env: Annotated[str, typer.Option("--env", "-e", help="Environment to lint.", show_default=False)],
    overrides: Annotated[
        list[str], typer.Option("--set", help="Override an environment value: key.path=value (repeatable).")
    ] = [],  # noqa: B006
    output_format: Annotated[str, typer.Option("--format", help="text, json, sarif or github.")] = "text",
) -> None:
    """Check what ENV renders to: NeuVector's import checks and this environment's guardrails."""
    from nvpolicy.cli import project_dir
    from nvpolicy.lint import lint_environment
    from nvpolicy.report import RuleInfo, annotate_input_errors, exit_code, import_check_infos, reporter

    chosen = reporter(output_format)
    with annotate_input_errors(output_format):
        result = lint_environment(project_dir(ctx), env, overrides)
    infos = import_check_infos() + [RuleInfo.of(rule, result.levels.get(rule.ID)) for rule in result.guardrails]
    typer.echo(chosen.report(result.findings, infos), nl=False)
    raise typer.Exit(exit_code(result.findings))
