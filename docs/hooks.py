"""MkDocs hooks: the rule and CLI references are generated at build time from the code itself.

reference/rules.md comes from the rules' modules (what `nvpolicy rules` prints); reference/cli.md
from the typer app's own help, command by command. Nothing generated is committed, so the site
cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

from mkdocs.structure.files import File, Files

GENERATED = {"reference/rules.md": "_rules", "reference/cli.md": "_cli"}


def _rules() -> str:
    from nvpolicy.rules import RULE_MODULES, load_rules
    from nvpolicy.rules._reference import reference_markdown

    return reference_markdown(load_rules(RULE_MODULES))


def _cli() -> str:
    from nvpolicy.cli import app, register_commands

    register_commands()
    from typer.main import get_command
    from typer.testing import CliRunner

    runner = CliRunner()
    sections = ["# CLI reference", "",
                "Generated from the command-line app itself: what `nvpolicy COMMAND --help` prints.", ""]

    def walk(command: Any, words: list[str]) -> None:
        shown = runner.invoke(app, [*words, "--help"], prog_name="nvpolicy", terminal_width=100).output
        sections.extend([f"## `{' '.join(['nvpolicy', *words])}`", "", "```text", shown.rstrip(), "```", ""])
        for name in sorted(getattr(command, "commands", {})):
            walk(command.commands[name], [*words, name])

    walk(get_command(app), [])
    return "\n".join(sections)


def on_files(files: Files, config: Any) -> Files:
    for path, maker in GENERATED.items():
        files.append(File.generated(config, path, content=globals()[maker]()))
    return files
