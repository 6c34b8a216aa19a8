"""The rule reference, made from the rules' own modules: ID, level, description and docstring.

``nvpolicy rules`` prints it and the documentation site embeds it (docs/hooks.py), so the page a
SARIF result links to (``helpUri``) says exactly what the code checks, PASS and FAIL examples included.
"""

from __future__ import annotations

import os
import re
from types import ModuleType

DOCS_URL = "https://nvpolicy.readthedocs.io/en/latest/"  # overridable: NVPOLICY_DOCS_URL


def docs_url() -> str:
    base = os.environ.get("NVPOLICY_DOCS_URL") or DOCS_URL
    return base if base.endswith("/") else base + "/"


def help_uri(rule_id: str) -> str:
    """Where the reference entry of a rule lives on the documentation site."""
    return f"{docs_url()}reference/rules/#{rule_id}"


def kind_of(module: ModuleType) -> str:
    return "guardrail (lint)" if module.__name__.rsplit(".", 1)[-1].startswith("guard_") else "import check"


def rule_markdown(module: ModuleType) -> str:
    """One rule as Markdown: a heading anchored at its ID, its facts, then its docstring with the
    ``PASS::``/``FAIL::`` literal blocks as YAML code blocks."""
    doc = (module.__doc__ or "").strip()
    summary, _, body = doc.partition("\n")
    lines = [f"### {module.ID}", "", f"**{kind_of(module)}**, default level **{module.LEVEL}**. {module.DESCRIPTION}",
             ""]
    title = summary.split(":", 1)[1].strip() if summary.startswith(f"{module.ID}:") else summary
    if title:
        lines += [title, ""]
    lines += _literal_blocks(body.strip("\n"))
    return "\n".join(lines).rstrip() + "\n"


def _literal_blocks(text: str) -> list[str]:
    """reStructuredText ``Label::`` + indented block -> ``**Label**`` + a fenced YAML block."""
    out: list[str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        label = re.fullmatch(r"(\S[^:]*)::\s*", line)
        if not label:
            out.append(line)
            index += 1
            continue
        block: list[str] = []
        index += 1
        while index < len(lines) and (not lines[index].strip() or lines[index].startswith("    ")):
            block.append(lines[index][4:])
            index += 1
        while block and not block[-1].strip():
            block.pop()
        while block and not block[0].strip():
            block.pop(0)
        out += [f"**{label.group(1)}**", "", "```yaml", *block, "```", ""]
    return out


def reference_markdown(modules: tuple[ModuleType, ...]) -> str:
    intro = ("Every check nvpolicy runs, generated from the rules' own modules. Import checks run in "
             "`validate`, `render` and `lint`; guardrails only in `lint`, configured per environment "
             "(`lint:` in the environment file). `nvpolicy rules RULE` prints one entry.\n")
    return "# Rule reference\n\n" + intro + "\n" + "\n".join(rule_markdown(module) for module in modules)
