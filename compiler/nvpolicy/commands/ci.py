"""``nvpolicy ci``: the glue a policy repo's pipelines need, shipped with nvpolicy (no scripts to copy)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ORDER = 92
EXAMPLES = """\
Examples:

  nvpolicy ci pr-comment github --pr 42 reports/diff

  nvpolicy ci pr-comment plan --pr 0 reports/diff

  nvpolicy ci codequality reports/lint/*.json -o gl-code-quality-report.json
"""

ci_app = typer.Typer(help="CI glue: pull-request comments, GitLab code quality.", no_args_is_help=True,
                     epilog=EXAMPLES)


def register(app: typer.Typer) -> None:
    app.add_typer(ci_app, name="ci")


@ci_app.command("pr-comment", epilog="""\
Examples:

  nvpolicy ci pr-comment github --pr "$PR" reports/diff   # GITHUB_TOKEN, GITHUB_REPOSITORY (GITHUB_API_URL)

  nvpolicy ci pr-comment gitlab --pr "$CI_MERGE_REQUEST_IID" reports/diff   # NVPOLICY_GITLAB_TOKEN

DIR holds `nvpolicy diff --format markdown --out DIR/<env>` folders. Each comment carries a hidden
marker: a rerun edits the earlier comments in place and deletes parts (and unchanged environments)
that no longer have one. Exit 1 when the API refuses, 2 for a missing setting.
""")
def pr_comment(
    forge: Annotated[str, typer.Argument(help="github, gitlab, or plan (print only, no network).")],
    directory: Annotated[Path, typer.Argument(help="Folder of per-environment diff parts.")],
    pr: Annotated[str, typer.Option("--pr", help="Pull request number / merge request IID.")],
) -> None:
    """Post the diff parts as PR/MR comments, updating nvpolicy's earlier comments in place."""
    from nvpolicy.ci.pr_comment import post

    for line in post(forge, pr, directory):
        typer.echo(line)


@ci_app.command("codequality")
def codequality(
    files: Annotated[list[Path], typer.Argument(help="lint JSON reports, one per environment (named ENV.json).")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Write to FILE instead of stdout.",
                                             metavar="FILE")] = None,
) -> None:
    """Turn `lint --format json` reports into one GitLab code-quality report."""
    from nvpolicy.ci.codequality import report

    text = report(files)
    if out is None:
        typer.echo(text, nl=False)
        return
    from nvpolicy.scaffolding import PlannedFile, write

    write(out.parent, [PlannedFile(out.name, text.encode())], force=True)
