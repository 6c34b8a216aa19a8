"""learned-group: criteria of learned groups as validateLearnGroupConfig checks them (S8, S3).

``nv.<service>`` groups: at most 2 criteria, op ``=``, keys ``service`` and ``domain`` only and each
once; ``service`` equals the name without ``nv.`` (after NormalizeForURL), ``domain`` the last
``.``-token of a name of 3+ tokens. Neither is required: service only, domain only and no
criteria all pass. ``nv.ip.*`` groups: op ``=``, no ``service``, at most one matching ``domain``;
any other key is accepted and dropped on import (a warning says so).

A learned group that runs exists in the cluster with both ``service`` and ``domain``; a CR that
gives only one of them differs from it, so NeuVector creates a copy ``<name>-<hash>`` with just that
criterion (S21), which matches more than the name says: every workload of the namespace (domain
only) or the service in every namespace (service only). That is a warning.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target:
        selector: {name: nv.web.shop, criteria: [{key: service, op: "=", value: web.shop},
                                                 {key: domain, op: "=", value: shop}]}
      egress:
        - {name: dns, action: allow, selector: {name: nv.kube-dns.kube-system}}
        - {name: api, action: allow, selector: {name: nv.ip.kubernetes.default,
                                                criteria: [{key: domain, op: "=", value: default}]}}

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: web}
    spec:
      target:
        selector: {name: nv.web.shop, criteria: [{key: service, op: "=", value: web.dev}]}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.nv.criteria import DOMAIN, SERVICE
from nvpolicy.nv.groups import GroupClass, classify, hashed_name, learned_parts, normalize_for_url
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import Selector, selectors

ID = "learned-group"
LEVEL = "error"
DESCRIPTION = ("Learned nv.* groups have at most service=<name without nv.> and domain=<last token>, op = "
               "(S8); nv.ip.* groups have no service and at most a matching domain (S3).")
HINT = "use {{ service('<name>', '<namespace>') }}, or a custom group name for other criteria"


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in selectors(objects, context):
        group_class = classify(selector.name)
        if group_class is GroupClass.LEARNED or group_class is GroupClass.SERVICE_IP:
            yield from _check(selector, group_class is GroupClass.SERVICE_IP)


def _check(selector: Selector, service_ip: bool) -> Iterator[Hit]:
    name = selector.name
    fields = selector.fields()
    if len(fields) > 2 and not service_ip:
        yield Hit(selector.obj, (*selector.path, "criteria"),
                  f"learned group {name!r} has {len(fields)} criteria, at most service and domain"
                  + says("S8", "Learned Group must have criteria service with/without domain"), HINT)
        return
    service, domain = learned_parts(name)
    seen: set[str] = set()
    dropped: list[str] = []
    for index, key, op, value in fields:
        path = selector.criterion_path(index)
        if key == "":
            yield Hit(selector.obj, (*path, "key"), "criterion key is empty"
                      + says("S3" if service_ip else "S8", "Criteria key cannot be empty"))
            return
        text = None
        if op != "=":
            text = "Learned group can only have operation exact match"
        elif key == SERVICE and service_ip:
            text = "Learned ip service group does not allow service criteria"
        elif key == SERVICE and SERVICE in seen:
            text = "Learned group only allows one service criteria"
        elif key == SERVICE and (not isinstance(value, str) or normalize_for_url(value) != service):
            text = (f"Learned group service does not match between name and criteria(key: service, value: {value}). "
                    "For value, replace [/?%& ] to :, without NonPrintable.")
        elif key == DOMAIN and DOMAIN in seen:
            text = "Learned group only allows one domain criteria"
        elif key == DOMAIN and (domain is None or value != domain):
            text = f"Learned group domain does not match between name and criteria(key: domain, value: {value})"
        elif key not in (SERVICE, DOMAIN):
            if not service_ip:
                text = "Learned group can only have key as service and domain"
            else:
                dropped.append(f"{key}{op}{value}")
        if text is not None:
            yield Hit(selector.obj, path, f"learned group {name!r}: criterion {key}{op}{value} is refused"
                      + says("S3" if service_ip else "S8", text), HINT)
            return  # the controller stops at the first bad criterion
        seen.add(str(key))
    if not service_ip and len(seen) == 1 and not selector.referral:
        only = next(iter(seen))
        reach = (f"every workload in namespace {domain}" if only == DOMAIN
                 else f"service {service} in every namespace")
        copy = hashed_name(name, [(str(k), str(o), str(v)) for _, k, o, v in fields])
        yield Hit(selector.obj, (*selector.path, "criteria"),
                  f"learned group {name!r} has only its {only} criterion: where NeuVector has learned the group "
                  f"(service and domain), it creates the copy {copy!r} with this criterion alone, matching "
                  f"{reach}" + says("S21"), "give both criteria: {{ service('<name>', '<namespace>') }}",
                  level="warning")
    if dropped:
        yield Hit(selector.obj, (*selector.path, "criteria"),
                  f"learned service-IP group {name!r}: NeuVector keeps only its domain criterion and drops "
                  f"{', '.join(dropped)}" + says("S3"), "leave out criteria other than domain", level="warning")
