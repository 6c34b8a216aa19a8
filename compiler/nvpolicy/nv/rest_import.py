"""How the REST import ``POST /v1/file/group/config`` reads its text (parseGroupYamlFile, rest/group.go:1881-1987; X3).

It is not a YAML stream reader: the text is split on ``\\n---\\n`` (or ``\\r\\n---\\r\\n`` when that gives
one part and the text has CRLF line ends), lines that are empty or start with ``#`` after trimming are
dropped, and each part is decoded as one document (a second document in a part is never read). A part
is a ``kind: List`` whose first item names the kind of all (NvGroupDefinition, or NvSecurityRule /
NvClusterSecurityRule), or one such object. Every item needs ``apiVersion: neuvector.com/v1`` and that
kind. The first error aborts the whole import.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from nvpolicy.nv.kinds import API_VERSION, RULE_KINDS
from nvpolicy.nv.kinds import GROUP_DEFINITION as DEFINITION


class _Loader(yaml.SafeLoader):
    """YAML 1.1 as Go's yaml reads it here: an unquoted ``=`` (exports' ``op: =``) is a string."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:value"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class ImportProblem:
    """What the import reports, where (1-based line of the part in the text), and whether it aborts."""

    line: int
    message: str
    fatal: bool = True


def _parts(text: str) -> list[tuple[int, str]]:
    separator = "\n---\n"
    parts = text.split(separator)
    if len(parts) == 1 and "\r\n" in text:
        separator = "\r\n---\r\n"
        parts = text.split(separator)
    found, line = [], 1
    for part in parts:
        found.append((line, part))
        line += part.count("\n") + separator.count("\n")
    return found


def _dropped(line: str) -> bool:
    trimmed = line.strip(" \t\n\v\f\r\x85\xa0")  # Go's strings.TrimSpace
    return not trimmed or trimmed.startswith("#")


def as_read(text: str) -> str:
    """``text`` with the lines the import drops (empty, blank, tab-only, comments) blanked, line numbers kept."""
    return "".join("\n" if _dropped(line) else line for line in text.splitlines(keepends=True))


def _kept(part: str) -> str:
    """The lines the import keeps: Go's TrimSpace, then neither empty nor a comment."""
    return "".join(line + "\n" for line in part.splitlines() if not _dropped(line))


def problems(text: str) -> list[ImportProblem]:
    """What the group-policy import says about ``text``: at most one fatal problem, plus warnings before it.

    Call it on text already read safely (nvpolicy.source refuses alias bombs): it builds the documents.
    """
    found: list[ImportProblem] = []
    items: list[tuple[int, object, str]] = []  # line, item, the kind family it was decoded as
    for index, (line, part) in enumerate(_parts(text)):
        kept = _kept(part)
        if not kept:
            continue
        try:
            documents = [d for d in yaml.load_all(kept, Loader=_Loader) if d is not None]
        except yaml.YAMLError as error:
            return [*found, ImportProblem(line, f"Invalid yaml({index}): {str(error).splitlines()[0]}")]
        if not documents:
            continue
        if len(documents) > 1:
            found.append(ImportProblem(line, f"part {index} holds {len(documents)} YAML documents; the import reads "
                                             "only the first (parts are split on lines of exactly '---')", False))
        data = documents[0]
        kind = data.get("kind") if isinstance(data, dict) else None
        members = data.get("items") if isinstance(data, dict) and kind == "List" else [data]
        if not isinstance(members, list) or not members:
            continue
        first = members[0]
        family = first.get("kind") if isinstance(first, dict) else None
        if family != DEFINITION and family not in RULE_KINDS:
            return [*found, ImportProblem(line, f"Invalid yaml({index}): kind: {family if family else ''}")]
        items.extend((line, member, DEFINITION if family == DEFINITION else "rule") for member in members)
    for line, member, family in items:
        api = member.get("apiVersion") if isinstance(member, dict) else None
        kind = member.get("kind") if isinstance(member, dict) else None
        fits = kind == DEFINITION if family == DEFINITION else kind in RULE_KINDS
        if api != API_VERSION or not fits:
            return [*found, ImportProblem(line, f"Invalid yaml, apiVersion: {api or ''}, kind: {kind or ''}")]
    return found
