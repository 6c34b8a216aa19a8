"""``nvpolicy schema``: print or write one of nvpolicy's JSON Schemas (for editors and other tools)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ORDER = 95
EXAMPLES = """\
Examples:

  nvpolicy schema environment -o schemas/environment.schema.json

  nvpolicy schema NvSecurityRule > nvsecurityrule.schema.json

  nvpolicy schema --list

The environment files' first line, `# yaml-language-server: $schema=../schemas/environment.schema.json`,
lets editors with the YAML language server complete and check them once the file is there.
"""


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(schema)


def schema(
    name: Annotated[str, typer.Argument(help="environment, or a NeuVector kind (NvSecurityRule, …).")] = "",
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Write to FILE instead of stdout.",
                                             metavar="FILE")] = None,
    list_names: Annotated[bool, typer.Option("--list", help="List the schema names.")] = False,
) -> None:
    """Print (or write with -o) the JSON Schema of environment files or of a NeuVector kind."""
    import difflib

    from nvpolicy.errors import NvPolicyError
    from nvpolicy.schema_registry import schema_names, schema_text

    names = {file.removesuffix(".schema.json"): file for file in schema_names() if file != "defs.schema.json"}
    if list_names or not name:
        typer.echo("\n".join(names))
        return
    file = names.get(name.lower())
    if file is None:
        close = difflib.get_close_matches(name.lower(), names, n=1)
        raise NvPolicyError(f"no schema {name!r}", hint=f"did you mean {close[0]!r}?" if close
                            else f"schemas: {', '.join(names)}")
    text = schema_text(file)
    if out is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    from nvpolicy.scaffolding import PlannedFile, write

    write(out.parent if str(out.parent) else Path("."), [PlannedFile(out.name, text.encode())], force=True)
