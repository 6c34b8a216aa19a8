"""``nvpolicy envs``: the environments of the project, one a line (partials left out)."""

from __future__ import annotations

from typing import Annotated

import typer

from nvpolicy.choices import SUMMARY_FORMATS, check_choice, choice_help

ORDER = 90
EXAMPLES = """\
Examples:

  nvpolicy envs

  for env in $(nvpolicy envs); do nvpolicy lint --env "$env"; done

The same set `render --all` and `lint --all` use: environments/*.yaml except partials (_*.yaml).
"""


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(envs)


def envs(
    ctx: typer.Context,
    output_format: Annotated[str, typer.Option("--format", help=choice_help("Output format", SUMMARY_FORMATS),
                                               autocompletion=lambda: list(SUMMARY_FORMATS))] = "text",
) -> None:
    """List the environments that render --all renders."""
    import json

    from nvpolicy.cli import project_dir
    from nvpolicy.environment import environment_names

    check_choice("--format", output_format, SUMMARY_FORMATS)
    names = environment_names(project_dir(ctx))
    if output_format == "json":
        typer.echo(json.dumps(names))
    else:
        typer.echo("\n".join(names), nl=bool(names))
