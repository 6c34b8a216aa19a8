"""process-path: a process rule's path is absolute, does not end in ``/`` and has at most one ``*``.

A lone ``*`` (any path, matched by name) is allowed too.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web}}
      process: [{name: java, action: allow, path: /usr/lib/jvm/*/bin/java}]

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web}}
      process: [{name: java, action: allow, path: usr/bin/java}]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import process_rules_by_object

ID = "process-path"
LEVEL = "error"
DESCRIPTION = "Process paths are absolute, do not end in '/', and contain at most one '*'."


def problem(path: str) -> str | None:
    if path in ("", "*"):
        return None
    if not path.startswith("/"):
        return "is not absolute"
    if path.endswith("/"):
        return "ends in '/'"
    if path.count("*") > 1:
        return "has more than one '*'"
    return None


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj, rules in process_rules_by_object(objects, context):
        for path, rule in rules:
            value = rule.get("path")
            if value is None:
                continue
            found = problem(value) if isinstance(value, str) else "is not a string"
            if found:
                yield Hit(obj, (*path, "path"), f"process path {value!r} {found}",
                          "write the executable's absolute path, e.g. /usr/bin/java, with at most one '*'")
