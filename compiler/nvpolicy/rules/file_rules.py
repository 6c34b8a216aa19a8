"""file-rules: file rules as validateCrdFileRules reads them (S45-S47).

Filter, behavior and apps are trimmed (S44); the filter is cleaned like Go's filepath.Clean and may
not clean to ``/`` or ``.`` (S45). The cleaned filter has no ``[ ] ( ) < >`` and no ``..``, has
something after its last ``/``, and its directory part and file pattern compile as Go regexps
after ``.`` -> ``\\.`` and ``*`` -> ``.*`` (S46). Two rules may not share cleaned filter, behavior
and recursive (S47). Targets ``external`` and ``nv.ip.*`` have no profiles: their file rules are
ignored unchecked (a warning says so).

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: nv.web.shop}}
      file:
        - {behavior: monitor_change, filter: " /etc/nginx/*.conf "}
        - {behavior: block_access, filter: /etc/nginx/*.conf, recursive: true}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: nv.web.shop}}
      file:
        - {behavior: monitor_change, filter: /etc/passwd}
        - {behavior: monitor_change, filter: /etc//passwd}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.groups import has_profiles
from nvpolicy.nv.processes import file_filter_problem, file_rule_key, go_clean
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import items, targets, text

ID = "file-rules"
LEVEL = "error"
DESCRIPTION = ("File filters do not clean to / (S45), follow NeuVector's filter grammar (S46), and are not "
               "repeated with the same behavior and recursive (S47).")
HINT = "filters are absolute file paths or patterns such as /etc/passwd, /etc/nginx/*.conf or /var/log/"


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in targets(objects, context):
        obj = selector.obj
        rules = list(items(obj, "file"))
        if not rules:
            continue
        if not has_profiles(selector.name):
            yield Hit(obj, ("spec", "file"), f"target {selector.name!r} has no file profile: NeuVector ignores "
                      "these file rules without reading them", "remove them", level="warning")
            continue
        seen: set[str] = set()
        for path, rule in rules:
            raw = text(rule, "filter")
            cleaned = go_clean(raw.strip())
            found = file_filter_problem(raw)
            if found is not None:
                check_id, nv_text = ("S45", f"validate error: filter: {raw}[{cleaned}]") if cleaned in (".", "/") \
                    else ("S46", f"validate error: unsupported filter: {raw}[{cleaned}]")
                yield Hit(obj, (*path, "filter"), f"file filter {raw!r} {found}" + says(check_id, nv_text), HINT)
            key = file_rule_key(raw, text(rule, "behavior"), rule.get("recursive"))
            if key in seen:
                yield Hit(obj, path, f"file rule {raw!r} repeats an earlier one (same cleaned filter, behavior and "
                          "recursive)" + says("S47", f"Duplicated file rule entry: : {key}"), "remove one")
            seen.add(key)
