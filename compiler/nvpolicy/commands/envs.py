"""``nvpolicy envs``: the environments of the project, one a line (partials left out)."""

from __future__ import annotations

from typing import Annotated

import typer

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
    output_format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """List the environments that render --all renders."""
    import json

    from nvpolicy.cli import project_dir
    from nvpolicy.environment import environment_names
    from nvpolicy.errors import NvPolicyError

    names = environment_names(project_dir(ctx))
    if output_format == "json":
        typer.echo(json.dumps(names))
    elif output_format == "text":
        typer.echo("\n".join(names), nl=bool(names))
    else:
        raise NvPolicyError(f"--format {output_format!r} is not one of: text, json")
