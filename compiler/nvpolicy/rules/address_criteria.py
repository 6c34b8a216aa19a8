"""address-criteria: an ``address`` criterion uses ``=``, stands alone, and names an address.

The value is an IP, a CIDR, an ``a-b`` range, a DNS name, ``*.domain`` or ``vh:name``; the
controller refuses "Cannot mix address and other criteria in a group".

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target:
        selector: {name: web, criteria: [{key: app, op: "=", value: web}]}
      egress:
        - name: to-db
          action: allow
          selector: {name: ext-db, criteria: [{key: address, op: "=", value: "*.postgres.example.com"}]}

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
from functools import lru_cache

from nvpolicy.environment import address_problem
from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext
from nvpolicy.rules._walk import selectors

ID = "address-criteria"
LEVEL = "error"
DESCRIPTION = ("Address criteria use op =, are not mixed with other keys, and hold an IP, CIDR, range, DNS name, "
               "*.domain or vh: name.")

# External peers recur in every rule that talks to them; each address is parsed once.
_address_problem = lru_cache(maxsize=4096)(address_problem)


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in selectors(objects, context):
        criteria = selector.fields()
        addresses = [(index, op, value) for index, key, op, value in criteria if key == "address"]
        if not addresses:
            continue
        if len(addresses) != len(criteria):
            yield Hit(selector.obj, (*selector.path, "criteria"),
                      f"group {selector.name!r} mixes address criteria with other keys; NeuVector refuses that",
                      "put the addresses in a group of their own")
        for index, op, value in addresses:
            path = selector.criterion_path(index)
            if op != "=":
                yield Hit(selector.obj, (*path, "op"), f"an address criterion takes op '=', not {op!r}")
                continue
            problem = _address_problem(value) if isinstance(value, str) else "not a string"
            if problem:
                yield Hit(selector.obj, (*path, "value"), f"address {value!r} is not usable: {problem}",
                          "use an IP, a CIDR (10.0.0.0/8), a range (a-b), a DNS name, *.domain or vh:<name>")
