"""metadata-name: metadata.name is a DNS-1123 subdomain and metadata.namespace a DNS-1123 label.

PASS::

    kind: NvSecurityRule
    metadata: {name: nv.orders.shop, namespace: shop}

FAIL::

    kind: NvSecurityRule
    metadata: {name: nv.Orders.shop, namespace: shop_1}
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext

ID = "metadata-name"
LEVEL = "error"
DESCRIPTION = "metadata.name is a DNS-1123 subdomain; metadata.namespace a DNS-1123 label."

_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
SUBDOMAIN = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
LABEL = re.compile(rf"^{_LABEL}$")


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for obj in objects:
        metadata = obj.data.get("metadata")
        if not isinstance(metadata, dict):
            continue
        name = metadata.get("name")
        if not isinstance(name, str) or len(name) > 253 or not SUBDOMAIN.match(name):
            yield Hit(obj, ("metadata", "name"), f"metadata.name {name!r} is not a DNS-1123 subdomain",
                      "metadata names are DNS-1123: lower-case letters, digits, '-' and '.'")
        namespace = metadata.get("namespace")
        if namespace is not None and (not isinstance(namespace, str) or len(namespace) > 63
                                      or not LABEL.match(namespace)):
            yield Hit(obj, ("metadata", "namespace"), f"metadata.namespace {namespace!r} is not a DNS-1123 label")
