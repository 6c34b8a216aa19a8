"""Markdown for pull-request comments, split into parts that each fit GitHub's comment limit.

Parts split between objects; an object whose table alone is too big is cut between table
rows into several complete tables, never inside one.
"""

from __future__ import annotations

from nvpolicy.diff.model import DiffResult, ObjectDiff
from nvpolicy.errors import NvPolicyError

DEFAULT_MAX_CHARS = 65_000
MIN_MAX_CHARS = 2_000
MAX_LISTED = 50  # widening items and groups listed in the header; the rest are in the tables
_PART_HEADER = "<!-- nvpolicy diff: part {i} of {n} -->\n"
_CONTINUED = "**nvpolicy diff, part {i} of {n}** (continued)\n\n"
_RESERVED = 160  # room for the part header lines on every part
_TABLE_HEAD = "| change | exposure | section | rule | what |\n|---|---|---|---|---|\n"
_ICONS = {"widens": ":warning: widens", "narrows": "narrows", "neutral": "neutral"}


def _cell(text: str, limit: int = 2_000) -> str:
    # Cells hold names and values from the policy (and so from the cluster): no HTML, no table break,
    # and no link or image (`![x](https://…)` in a process name would load a picture in the comment).
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    text = text.replace("[", "\\[").replace("]", "\\]")
    text = text.replace("\n", "<br>")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _header(result: DiffResult, budget: int) -> str:
    """The summary part; lists shrink until it fits one part."""
    for listed in (MAX_LISTED, 20, 5, 0):
        text = _header_listing(result, budget, listed)
        if len(text) <= budget:
            return text
    raise NvPolicyError("the summary does not fit in --max-chars", hint="raise --max-chars")


def _header_listing(result: DiffResult, budget: int, listed: int) -> str:
    summary = result.summary
    out = [f"## nvpolicy diff: `{result.old_label}` → `{result.new_label}`\n",
           "| widens | narrows | neutral | objects added | changed | removed |",
           "|---:|---:|---:|---:|---:|---:|",
           f"| **{summary.widens}** | {summary.narrows} | {summary.neutral} | {summary.objects_added} "
           f"| {summary.objects_changed} | {summary.objects_removed} |\n"]
    if result.empty:
        out.append("No changes.")
        return "\n".join(out) + "\n"
    widening = [(obj, c) for obj in result.objects for c in obj.changes if c.exposure == "widens"]
    if widening:
        out.append("### :warning: Widening changes\n")
        out += [f"- `{obj.id}`: {c.change} {_cell(c.subject, 300)}" for obj, c in widening[:listed]]
        if len(widening) > listed:
            out.append(f"- … and {len(widening) - listed} more (see the objects below)")
        out.append("")
    if result.managed_groups:
        out.append("### Groups becoming CRD-managed\n")
        out.append("NeuVector makes these read-only in its console once the change is applied.\n")
        groups = result.managed_groups
        out += [f"- `{g.name}` ({g.role}, from `{g.object_id}`)" for g in groups[:listed]]
        if len(groups) > listed:
            out.append(f"- … and {len(groups) - listed} more")
        out.append("")
    text = "\n".join(out) + "\n"
    from nvpolicy.diff.mermaid import flowchart

    chart = flowchart(result)
    # The chart is a picture for small changes; beyond half a comment it helps nobody.
    if len(text) + len(chart) + 40 <= budget // 2:
        text += "### Allowed flows\n\n" + chart + "\n"
    else:
        text += "*Flowchart omitted: too large for one comment.*\n\n"
    return text


def _object_blocks(obj: ObjectDiff, budget: int) -> list[str]:
    # Markdown code spans do not render inside <summary>; HTML does.
    heading = f"<code>{_cell(str(obj.id))}</code> {obj.change}"
    if obj.old_id is not None:
        heading += f" from <code>{_cell(obj.old_id.name)}</code>"
    counts = ", ".join(f"{obj.count(e)} {e}" for e in ("widens", "narrows", "neutral") if obj.count(e))
    opened = "<details open>" if obj.widens else "<details>"
    rows = []
    row_limit = max(200, (budget - 400) // 2)
    for c in obj.changes:
        what = _cell(c.subject, 300) + _details(c.details, row_limit)
        rows.append(f"| {c.change} | {_ICONS[c.exposure]} | {c.section} | {_cell(c.rule, 200)} | {what} |\n")
    blocks: list[str] = []
    chunk: list[str] = []

    def close(continued: bool) -> str:
        title = heading + (" (continued)" if continued else "") + (f": {counts}" if counts else "")
        table = _TABLE_HEAD + "".join(chunk) if chunk else "No content changes.\n"
        return f"{opened}<summary>{title}</summary>\n\n{table}\n</details>\n\n"

    for row in rows:
        if chunk and len(close(True)) + len(row) > budget:
            blocks.append(close(bool(blocks)))
            chunk = []
        chunk.append(row)
    blocks.append(close(bool(blocks)))
    return blocks


def _details(details: tuple[str, ...], limit: int) -> str:
    if not details:
        return ""
    text = "<br>" + "<br>".join(_cell(d, 500) for d in details)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_markdown(result: DiffResult, max_chars: int = DEFAULT_MAX_CHARS) -> list[str]:
    """The comment(s); each part is at most ``max_chars`` characters."""
    if max_chars < MIN_MAX_CHARS:
        raise NvPolicyError(f"--max-chars {max_chars} is too small", hint=f"use at least {MIN_MAX_CHARS}")
    budget = max_chars - _RESERVED
    blocks = [_header(result, budget)]
    ordered = sorted(result.objects, key=lambda o: not o.widens)  # widening objects first, stable
    for obj in ordered:
        blocks += _object_blocks(obj, budget)
    parts: list[str] = []
    current = ""
    for block in blocks:
        if current and len(current) + len(block) > budget:
            parts.append(current)
            current = ""
        current += block
    parts.append(current)
    total = len(parts)
    if total > 1:
        parts = [_PART_HEADER.format(i=i, n=total) + (_CONTINUED.format(i=i, n=total) if i > 1 else "") + part
                 for i, part in enumerate(parts, 1)]
    if any(len(part) > max_chars for part in parts):
        # Only names of extreme length get here: one table row cannot be made to fit.
        raise NvPolicyError(f"one change does not fit in --max-chars {max_chars}", hint="raise --max-chars")
    return parts
