"""process-path: process rules as validateCrdProcessRules reads them (S39-S42, S44).

Name, path and action are trimmed first (S44). A path other than ``*`` or empty is absolute, does
not end in ``/``, has no ``<``/``>`` and at most one ``*`` (S39); it is cleaned like Go's
filepath.Clean and may not clean to ``/`` or ``.`` (S40). An empty name needs a real path, whose
last part becomes the name (S41); name ``*`` needs a path (S42).

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: nv.web.shop}}
      process:
        - {name: java, action: allow, path: " /usr/lib/jvm/*/bin/java "}
        - {action: allow, path: /usr/bin/python3}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: nv.web.shop}}
      process: [{name: java, action: allow, path: usr/bin/java}]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.groups import has_profiles
from nvpolicy.nv.processes import ANY, go_clean, path_format_problem
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import process_rules_by_object, spec, targets, text

ID = "process-path"
LEVEL = "error"
DESCRIPTION = ("Process paths are absolute, do not end in '/', have no < > and at most one '*' (S39), do not clean "
               "to / (S40); a rule without a name has a real path (S41); name * has a path (S42).")
HINT = "write the executable's absolute path, e.g. /usr/bin/java, with at most one '*'"


def problem(path: str) -> str | None:
    """Why NeuVector refuses a process path (S39, S40 after trimming), or None."""
    path = path.strip()
    found = path_format_problem(path)
    if found is None and path and go_clean(path) in (".", "/"):
        found = f"cleans to {go_clean(path)!r}"
    return found


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in targets(objects, context):
        if not has_profiles(selector.name) and spec(selector.obj).get("process"):
            yield Hit(selector.obj, ("spec", "process"), f"target {selector.name!r} has no process profile: "
                      "NeuVector ignores these process rules without reading them", "remove them", level="warning")
    for obj, rules in process_rules_by_object(objects, context):
        for path, rule in rules:
            name, value, action = text(rule, "name").strip(), text(rule, "path").strip(), text(rule, "action").strip()
            entry = f"Name:{name}, Path:{value}, Action:{action}"
            if not isinstance(rule.get("path", ""), str):
                continue  # the schema says so
            found = path_format_problem(value)
            if found:
                yield Hit(obj, (*path, "path"), f"process path {value!r} {found}"
                          + says("S39", f"validate error: process[{name}], invalid path format: {value}"), HINT)
            cleaned = go_clean(value) if value else ""
            if value and cleaned in (".", "/"):
                yield Hit(obj, (*path, "path"), f"process path {value!r} cleans to {cleaned!r}"
                          + says("S40", f"validate error: process[{name}], unknown path format: {value}[{cleaned}]"),
                          HINT)
            if not name and (value in ("", ANY) or cleaned in (".", "/")):
                yield Hit(obj, path, "a process rule without a name needs the executable's path"
                          + says("S41", f"validate error: process needs a name: Name: {entry}"),
                          "give the process name, or its absolute path")
            if name == ANY and not value:
                yield Hit(obj, path, "a process rule for any name ('*') needs a path"
                          + says("S42", f"validate error: process needs a non-empty path: Name: {entry}"),
                          "give the path, e.g. path: /usr/bin/*")
