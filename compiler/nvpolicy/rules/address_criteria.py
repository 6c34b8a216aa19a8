"""address-criteria: in a custom group an ``address`` criterion uses ``=``, stands alone, and names an address.

S16-S18 as validateGroupConfigCriteria checks them: op ``=``; no mixing with other keys, in either
order; the value an IP, CIDR or ``ip-ip`` range (IPv6 included), a DNS name (labels may hold ``_``),
``*.`` with at least two labels, or ``vh:`` followed by either. ``*.com`` and a trailing dot are
refused. Several address criteria in one group are OR'd.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target:
        selector: {name: web, criteria: [{key: app, op: "=", value: web}]}
      egress:
        - name: to-db
          action: allow
          selector:
            name: ext-db
            criteria: [{key: address, op: "=", value: "*.postgres.example.com"},
                       {key: address, op: "=", value: "2001:db8::1-2001:db8::ff"}]

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target:
        selector: {name: web, criteria: [{key: app, op: "=", value: web}]}
      egress:
        - name: to-db
          action: allow
          selector:
            name: ext-db
            criteria: [{key: address, op: "=", value: 10.0.0.1}, {key: app, op: "=", value: db}]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv import addresses
from nvpolicy.nv.criteria import ADDRESS, kov
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import Selector, selectors

ID = "address-criteria"
LEVEL = "error"
DESCRIPTION = ("Address criteria use op = (S16), are not mixed with other keys (S17), and hold an IP, CIDR, range, "
               "DNS name, *.domain or vh: name (S18).")
HINT = "use an IP, a CIDR (10.0.0.0/8), a range (a-b), a DNS name, *.example.com or vh:<name>"


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in selectors(objects, context):
        if not selector.custom:
            continue
        criteria = selector.fields()
        if not any(key == ADDRESS for _, key, _, _ in criteria):
            continue
        has_address = has_other = False
        for index, key, op, value in criteria:
            path = selector.criterion_path(index)
            if key != ADDRESS:
                if has_address:
                    yield _mixed(selector, path, key, op, value)
                    break
                has_other = True
                continue
            if op != "=":
                yield Hit(selector.obj, (*path, "op"), f"an address criterion takes op '=', not {op!r}" + says(
                    "S16", f"Only exact match is supported for address criteria {kov(key, op, value)}"))
                break
            if has_other:
                yield _mixed(selector, path, key, op, value)
                break
            problem = addresses.problem(value) if isinstance(value, str) else "not a string"
            if problem:
                yield Hit(selector.obj, (*path, "value"), f"address {value!r} is not usable: {problem}"
                          + says("S18", f"Invalid address criteria {kov(key, op, value)}"), HINT)
                break
            has_address = True


def _mixed(selector: Selector, path: tuple[str | int, ...], key: object, op: object, value: object) -> Hit:
    return Hit(selector.obj, path, f"group {selector.name!r} mixes address criteria with other keys"
               + says("S17", f"Cannot mix address and other criteria in a group {kov(key, op, value)}"),
               "put the addresses in a group of their own")
