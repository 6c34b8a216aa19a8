"""``nvpolicy init``: scaffold a policy repo a team can commit at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nvpolicy.choices import SUMMARY_FORMATS, check_choice, choice_help, plural

ORDER = 5
EXAMPLES = """\
Examples:

  nvpolicy init my-policies

  nvpolicy init .            # in an empty checkout of your policy repo

  nvpolicy init . --force    # replace the files init writes (others are left alone)

Writes policies/ (the bundled orders/postgres example), environments/_base.yaml, dev, qa and prod,
schemas/environment.schema.json (where the environment files' schema header points), expect/
(policy tests), .gitignore, .pre-commit-config.yaml, .github/workflows/nvpolicy.yml and
.gitlab-ci.yml; the pipelines and the pre-commit hook install this nvpolicy version with pip.
Never overwrites a file unless --force is given.
"""


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(init)


def init(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="The new policy repo (created if missing).")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Replace files that init writes if they exist.")] = False,
    output_format: Annotated[str, typer.Option("--format", help=choice_help("Output format", SUMMARY_FORMATS),
                                               autocompletion=lambda: list(SUMMARY_FORMATS))] = "text",
) -> None:
    """Scaffold a policy repo: example policies, environments, schema, CI pipelines, pre-commit hook."""
    import json

    from nvpolicy import __version__
    from nvpolicy.cli import project_dir
    from nvpolicy.errors import NvPolicyError
    from nvpolicy.scaffolding import plan, write

    check_choice("--format", output_format, SUMMARY_FORMATS)
    target = directory if directory.is_absolute() else project_dir(ctx) / directory
    if target.exists() and not target.is_dir():
        raise NvPolicyError(f"{directory}: exists and is not a directory")
    target.mkdir(parents=True, exist_ok=True)
    written = write(target, plan(), force=force)
    if output_format == "json":
        typer.echo(json.dumps({"directory": str(target), "version": __version__, "written": written}, indent=2))
        return
    typer.echo(f"{directory}: wrote {plural(len(written), 'file')} for nvpolicy {__version__}")
    typer.echo("next: git init && git add -A && git commit -m 'nvpolicy init'; then nvpolicy render --all")
