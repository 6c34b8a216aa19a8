"""The review report of ``nvpolicy propose``: Markdown for people, JSON for tools. Returns text, never prints."""

from __future__ import annotations

import json
from collections.abc import Mapping

from nvpolicy.emit import dump
from nvpolicy.learn.propose import Proposal, Result
from nvpolicy.markdown_text import code, fenced, inline


def as_json(result: Result, files: Mapping[str, str]) -> str:
    data = result.as_json()
    for item, proposal in zip(data["proposals"] + data["flagged"], result.proposals + result.flagged, strict=True):
        item["target"]["file"] = files.get(proposal.target, f"policies/{proposal.target}.yaml")
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def as_markdown(result: Result, files: Mapping[str, str], env: str | None, namespace: str) -> str:
    """The review report. Everything that came from events (names, paths, command lines, ids) goes
    through ``markdown_text``, so it shows as text and cannot hide or reshape the rest of the report."""
    lines = [f"# nvpolicy propose: namespace {code(namespace)}" + (f", environment {code(env)}" if env else ""), ""]
    lines.append(f"{len(result.proposals)} proposals, {len(result.flagged)} flagged for review, "
                 f"{len(result.allowed)} already allowed" + ("" if env else " (no --env: nothing was checked)") + ".")
    lines.append("")
    if result.proposals:
        lines += ["## Proposals", ""]
        for number, proposal in enumerate(result.proposals, start=1):
            lines += _item(number, proposal, files, env)
    if result.flagged:
        lines += ["## Flagged for review (never written)", ""]
        for number, proposal in enumerate(result.flagged, start=1):
            lines += _item(number, proposal, files, env, flagged=True)
    if result.allowed:
        lines += ["## Already allowed", ""]
        lines += [f"- {inline(proposal.summary())} ({proposal.evidence.count} events)" for proposal in result.allowed]
        lines.append("")
    if result.ignored:
        lines += ["## Ignored events", ""]
        lines += [f"- {inline(why)}" for why in result.ignored]
        lines.append("")
    return "\n".join(lines)


def _item(number: int, proposal: Proposal, files: Mapping[str, str], env: str | None,
          flagged: bool = False) -> list[str]:
    evidence = proposal.evidence.as_json()
    lines = [f"### {number}. {inline(proposal.summary())}", ""]
    if flagged:
        lines += [f"- **why flagged:** {inline(reason)}" for reason in proposal.flags]
    sessions = f", sessions: {evidence['sessions']}" if proposal.kind == "network" else ""
    file = files.get(proposal.target, f"policies/{proposal.target}.yaml")
    lines += [
        f"- events: {evidence['count']}{sessions}",
        f"- first seen: {evidence['first_seen'] or 'unknown'}, last seen: {evidence['last_seen'] or 'unknown'}",
        f"- event ids: {inline(', '.join(evidence['event_ids'])) or 'none'}",
        f"- workloads: {inline(', '.join(evidence['workloads'])) or 'unknown'}",
        "",
        f"{'Would add' if flagged else 'Adds'} to {code(file)}"
        f" ({code(f'nv.{proposal.target}.{{{{ namespace }}}}')}), `spec.{proposal.section}`:",
        "",
        *fenced(dump([proposal.source_rule()]).rstrip("\n"), "yaml"),
        "",
    ]
    binding = proposal.binding()
    if binding is not None:
        where = f"environments/{env}.yaml" if env else "the environment file"
        lines += [f"and binds the peer in {code(where)}:", "",
                  *fenced(dump({"peers": {binding[0]: binding[1]}}).rstrip("\n"), "yaml"), ""]
    return lines
