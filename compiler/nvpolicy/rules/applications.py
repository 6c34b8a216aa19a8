"""applications: a rule's applications are NeuVector DPI names (case-insensitive), each once (S37).

The list is read in order and the first ``any`` (any case) ends the check: NeuVector never looks
at the entries after it. Before that, each name must be in AppNameMap and must not repeat.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web, criteria: [{key: app, op: "=", value: web}]}}
      egress:
        - {name: r1, action: allow, applications: [postgresql, SSL], selector: {name: nv.db.shop}}
        - {name: r2, action: allow, applications: [ANY, not-an-app], selector: {name: nv.db.shop}}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target: {selector: {name: web, criteria: [{key: app, op: "=", value: web}]}}
      egress:
        - {name: r1, action: allow, applications: [PostgreSQL, postgresql], selector: {name: nv.db.shop}}
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.applications import BY_UPPER, is_any
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import network_rules_by_object

ID = "applications"
LEVEL = "error"
DESCRIPTION = "Applications are NeuVector DPI names (case-insensitive), each listed once, up to the first any (S37)."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj, rules in network_rules_by_object(objects, context):
        for path, rule in rules:
            apps = rule.get("applications")
            if not isinstance(apps, list):
                continue
            where = f"for rule {rule.get('name')}(under {path[1]} section)"
            seen: dict[str, int] = {}
            for index, app in enumerate(apps):
                text = app if isinstance(app, str) else str(app)
                if is_any(text):
                    break  # NeuVector stops here: later entries are never looked at
                upper = text.upper()
                if upper not in BY_UPPER:
                    close = difflib.get_close_matches(upper, list(BY_UPPER), n=1, cutoff=0.6)
                    hint = f"did you mean {BY_UPPER[close[0]]!r}?" if close else \
                        "application names are NeuVector's DPI names, e.g. HTTP, SSL, PostgreSQL, Redis, DNS, any"
                    yield Hit(obj, (*path, "applications", index), f"unknown application name {app!r}"
                              + says("S37", f"Unknonwn application name: {app} {where}"), hint)
                elif upper in seen:
                    yield Hit(obj, (*path, "applications", index),
                              f"application {app!r} is listed twice (also at position {seen[upper]})"
                              + says("S37", f"duplicated application name: {app} {where}"),
                              "names are compared case-insensitively; remove one")
                else:
                    seen[upper] = index
