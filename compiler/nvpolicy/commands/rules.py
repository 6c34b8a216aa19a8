"""``nvpolicy rules``: the rule reference, from the rules' own docstrings (what the docs site shows)."""

from __future__ import annotations

from typing import Annotated

import typer

from nvpolicy.choices import check_choice, choice_help

FORMATS = ("text", "markdown")

ORDER = 94
EXAMPLES = """\
Examples:

  nvpolicy rules                 # every rule: ID, kind, default level, description

  nvpolicy rules any-ports       # one rule in full, with its PASS and FAIL examples

  nvpolicy rules --format markdown > docs/rules.md
"""


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(rules)


def rules(
    rule: Annotated[str, typer.Argument(help="A rule ID (as in findings); all rules when omitted.")] = "",
    output_format: Annotated[str, typer.Option("--format", help=choice_help("Output format", FORMATS)
                                               + " text: a list, or one rule in full; markdown: the reference page.",
                                               autocompletion=lambda: list(FORMATS))] = "text",
) -> None:
    """List the checks and guardrails, or show one with its PASS/FAIL examples."""
    import difflib

    from nvpolicy.errors import NvPolicyError
    from nvpolicy.rules import RULE_MODULES, load_rules
    from nvpolicy.rules._reference import help_uri, kind_of, reference_markdown, rule_markdown

    check_choice("--format", output_format, FORMATS)
    modules = load_rules(RULE_MODULES)
    if rule:
        found = next((module for module in modules if rule == module.ID), None)
        if found is None:
            ids = [module.ID for module in modules]
            close = difflib.get_close_matches(rule, ids, n=1)
            raise NvPolicyError(f"no rule {rule!r}", hint=f"did you mean {close[0]!r}?" if close
                                else "nvpolicy rules lists them")
        typer.echo(rule_markdown(found), nl=False)
        if output_format == "text":
            typer.echo(f"\nMore: {help_uri(found.ID)}")
        return
    if output_format == "markdown":
        typer.echo(reference_markdown(modules), nl=False)
        return
    width = max(len(module.ID) for module in modules)
    for module in modules:
        typer.echo(f"{module.ID:<{width}}  {module.LEVEL:<7}  {kind_of(module):<16}  {module.DESCRIPTION}")
