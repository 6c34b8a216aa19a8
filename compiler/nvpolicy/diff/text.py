"""Terminal output: one block per object, one line per change, widening changes in red."""

from __future__ import annotations

from nvpolicy.diff.model import DiffResult, ObjectDiff, Summary

_MARKS = {"added": "+", "removed": "-", "changed": "~", "moved": ">"}
_COLOURS = {"widens": "31", "narrows": "32", "neutral": "2"}


def summary_line(summary: Summary) -> str:
    return (f"{summary.objects_added} added, {summary.objects_changed} changed, {summary.objects_removed} removed "
            f"objects; {summary.widens} widen, {summary.narrows} narrow, {summary.neutral} neutral")


def render_text(result: DiffResult, colour: bool = False) -> str:
    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if colour else text

    if result.empty:
        return f"no changes between {result.old_label} and {result.new_label}\n"
    lines = [f"--- {result.old_label}", f"+++ {result.new_label}", ""]
    for obj in result.objects:
        lines.append(paint(_heading(obj), "1"))
        for change in obj.changes:
            mark = _MARKS[change.change]
            line = f"  {mark} {change.change:<7} {change.exposure:<7} {change.subject}"
            if change.rule:
                line += f" ({change.rule})"
            lines.append(paint(line, _COLOURS[change.exposure]))
            lines += [f"        {detail}" for detail in change.details]
        lines.append("")
    if result.managed_groups:
        lines.append("groups becoming CRD-managed (read-only in the NeuVector console):")
        lines += [f"  {g.name} ({g.role})" for g in result.managed_groups]
        lines.append("")
    lines.append(summary_line(result.summary))
    return "\n".join(lines) + "\n"


def _heading(obj: ObjectDiff) -> str:
    if obj.old_id is not None:
        return f"{obj.id} (renamed from {obj.old_id.name})"
    return f"{obj.id} ({obj.change})"
