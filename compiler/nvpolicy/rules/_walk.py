"""Shared walks over NeuVector objects for the rule modules (a helper, not a rule).

Rules may run on objects that failed the schema (to give a more specific finding), so every
accessor here checks types and yields only well-shaped parts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from nvpolicy.model import Path, RenderedObject
from nvpolicy.nv.groups import NAME_PATTERN, GroupClass, classify, has_profiles, is_reserved_prefix

# Re-exported for the rules that read them here; their home is nvpolicy.nv.
from nvpolicy.nv.groups import RESERVED_GROUPS as RESERVED_GROUPS
from nvpolicy.nv.groups import has_policy_mode as has_policy_mode
from nvpolicy.nv.kinds import RULE_KINDS as RULE_KINDS
from nvpolicy.nv.processes import executable

if TYPE_CHECKING:
    from nvpolicy.rules import RuleContext

Criterion = tuple[int, Any, Any, Any]  # index in the criteria list, key, op, value (None when missing)


def spec(obj: RenderedObject) -> dict[str, Any]:
    value = obj.data.get("spec")
    return value if isinstance(value, dict) else {}


def items(obj: RenderedObject, section: str) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The mapping entries of ``spec.<section>`` (ingress, egress, process, file, …) with their paths."""
    value = spec(obj).get(section)
    if isinstance(value, list):
        for index, entry in enumerate(value):
            if isinstance(entry, dict):
                yield ("spec", section, index), entry


def network_rules(obj: RenderedObject) -> Iterator[tuple[Path, dict[str, Any]]]:
    if obj.data.get("kind") in RULE_KINDS:
        yield from items(obj, "ingress")
        yield from items(obj, "egress")


class Selector:
    """One group selector: a rule's target, a rule's peer, or a group definition.

    A run builds tens of thousands of them and its rules read each one many times, so the
    name is read once and the criteria are worked out on first use, without paths: a rule
    builds a criterion's path (:meth:`criterion_path`) only when it reports a finding there.
    """

    __slots__ = ("_entries", "_fields", "_set", "data", "group_class", "name", "obj", "path", "referral", "role")

    def __init__(self, obj: RenderedObject, path: Path, data: dict[str, Any], role: str) -> None:
        self.obj = obj
        self.path = path
        self.data = data
        self.role = role  # target | peer | definition
        name = data.get("name")
        self.name: str = name if isinstance(name, str) else ""
        self.referral: bool = data.get("name_referral") is True
        self.group_class = classify(self.name)
        self._entries: tuple[tuple[int, dict[str, Any]], ...] | None = None
        self._fields: tuple[Criterion, ...] | None = None
        self._set: frozenset[tuple[str, str, str]] | None = None

    def entries(self) -> tuple[tuple[int, dict[str, Any]], ...]:
        """The criteria that are mappings, each with its index in the criteria list."""
        if self._entries is None:
            value = self.data.get("criteria")
            self._entries = tuple((index, entry) for index, entry in enumerate(value) if isinstance(entry, dict)) \
                if isinstance(value, list) else ()
        return self._entries

    def fields(self) -> tuple[Criterion, ...]:
        """``(index, key, op, value)`` of each criterion that is a mapping, each read once for all the rules."""
        if self._fields is None:
            value = self.data.get("criteria")
            self._fields = tuple((index, c.get("key"), c.get("op"), c.get("value")) for index, c in enumerate(value)
                                 if isinstance(c, dict)) if isinstance(value, list) else ()
        return self._fields

    @property
    def custom(self) -> bool:
        """A custom group whose name passed S1/S2: the criteria checks S9-S21 run on it (validateGroupConfigCriteria).

        The controller stops at a bad or reserved name, so its criteria are never looked at.
        """
        return (self.group_class is GroupClass.CUSTOM and NAME_PATTERN.match(self.name) is not None
                and not is_reserved_prefix(self.name))

    def criterion_path(self, index: int) -> Path:
        return (*self.path, "criteria", index)

    def criteria(self) -> Iterator[tuple[Path, dict[str, Any]]]:
        for index, entry in self.entries():
            yield (*self.path, "criteria", index), entry

    def criteria_set(self) -> frozenset[tuple[str, str, str]]:
        if self._set is None:
            # Straight from the data, as ``fields`` reads it: most selectors are only ever compared.
            value = self.data.get("criteria")
            self._set = frozenset([(str(c.get("key")), str(c.get("op")), str(c.get("value")))
                                   for c in value if isinstance(c, dict)]) if isinstance(value, list) else frozenset()
        return self._set


def section(selector: Selector) -> str:
    """The controller's name for where a selector sits, as its messages write it: ``Group g(under <this> section)``."""
    if selector.role == "peer" and len(selector.path) > 1:
        return str(selector.path[1])  # ingress | egress
    return "target" if selector.role == "target" else "definition"


def group_label(selector: Selector) -> str:
    """``g(under ingress section)`` or ``g(in definition)``, as the controller's group errors start."""
    if selector.role == "definition":
        return f"{selector.name}(in definition)"
    return f"{selector.name}(under {section(selector)} section)"


def target(obj: RenderedObject) -> Selector | None:
    if obj.data.get("kind") not in RULE_KINDS:
        return None
    target = spec(obj).get("target")
    selector = target.get("selector") if isinstance(target, dict) else None
    if not isinstance(selector, dict):
        return None
    return Selector(obj, ("spec", "target", "selector"), selector, "target")


Rules = tuple[tuple[Path, dict[str, Any]], ...]
ObjectRules = tuple[RenderedObject, Rules]


class Walk:
    """The walks over one run's objects that several rules need, each done once and shared.

    ``run_rules`` puts one in every rule's context; a rule called on its own (a test) walks the
    objects itself. Nothing changes the objects while their rules run, so reuse is safe.
    """

    def __init__(self, objects: Sequence[RenderedObject]) -> None:
        self.objects = objects

    @cached_property
    def network_rules(self) -> tuple[ObjectRules, ...]:
        return _by_object(self.objects, network_rules)

    @cached_property
    def process_rules(self) -> tuple[ObjectRules, ...]:
        return _by_object(self.objects, _process_rules)

    @cached_property
    def selectors(self) -> tuple[Selector, ...]:
        # By identity: objects compare by value and hold unhashable dicts; all of them outlive the walk.
        peers = {id(obj): rules for obj, rules in self.network_rules}
        return tuple(_selectors(self.objects, lambda obj: peers.get(id(obj), ())))

    @cached_property
    def targets(self) -> tuple[Selector, ...]:
        return tuple(selector for selector in self.selectors if selector.role == "target")

    @cached_property
    def by_kind(self) -> dict[str, tuple[RenderedObject, ...]]:
        """The objects of each kind, in object order: the rules of one kind look only at those."""
        grouped: dict[str, list[RenderedObject]] = {}
        for obj in self.objects:
            kind = obj.data.get("kind")
            if isinstance(kind, str):
                grouped.setdefault(kind, []).append(obj)
        return {kind: tuple(found) for kind, found in grouped.items()}


def _shared(objects: Sequence[RenderedObject], context: RuleContext | None) -> Walk:
    """The run's shared walk when ``context`` carries one for these objects, else a walk of their own."""
    walk = context.walk if context is not None else None
    return walk if walk is not None and walk.objects is objects else Walk(objects)


def selectors(objects: Sequence[RenderedObject], context: RuleContext | None = None) -> Sequence[Selector]:
    """Every selector of ``objects`` (definitions, targets, peers), in object order."""
    return _shared(objects, context).selectors


def targets(objects: Sequence[RenderedObject], context: RuleContext | None = None) -> Sequence[Selector]:
    """The target selector of every rule object that has one, in object order."""
    return _shared(objects, context).targets


def of_kind(objects: Sequence[RenderedObject], context: RuleContext | None, *kinds: str) -> Iterator[RenderedObject]:
    """The objects of ``kinds``, kind by kind (each in object order)."""
    by_kind = _shared(objects, context).by_kind
    for kind in kinds:
        yield from by_kind.get(kind, ())


def network_rules_by_object(objects: Sequence[RenderedObject],
                            context: RuleContext | None = None) -> Sequence[ObjectRules]:
    """Each object that has ingress/egress rules, with them (as :func:`network_rules` yields them)."""
    return _shared(objects, context).network_rules


def process_rules_by_object(objects: Sequence[RenderedObject],
                            context: RuleContext | None = None) -> Sequence[ObjectRules]:
    """Each rule object that has process rules, with them."""
    return _shared(objects, context).process_rules


def _process_rules(obj: RenderedObject) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The process rules NeuVector reads: none for targets without profiles (external, nv.ip.*)."""
    found = target(obj)
    if found is not None and has_profiles(found.name):
        yield from items(obj, "process")


def _by_object(objects: Sequence[RenderedObject],
               walk: Callable[[RenderedObject], Iterable[tuple[Path, dict[str, Any]]]]) -> tuple[ObjectRules, ...]:
    pairs = ((obj, tuple(walk(obj))) for obj in objects)
    return tuple((obj, rules) for obj, rules in pairs if rules)


def _selectors(objects: Sequence[RenderedObject], rules_of: Callable[[RenderedObject], Rules]) -> Iterator[Selector]:
    for obj in objects:
        kind = obj.data.get("kind")
        if kind == "NvGroupDefinition":
            selector = spec(obj).get("selector")
            if isinstance(selector, dict):
                yield Selector(obj, ("spec", "selector"), selector, "definition")
            continue
        found = target(obj)
        if found is not None:
            yield found
        for path, rule in rules_of(obj):
            peer = rule.get("selector")
            if isinstance(peer, dict):
                yield Selector(obj, (*path, "selector"), peer, "peer")


def cross_view(data: dict[str, Any]) -> dict[str, Any]:
    """An object's data cut to what the cross-object rules (``CROSS_OBJECT``) read through this module.

    Its id (kind, metadata's name and namespace), the selectors (a rule's target with its policy
    mode, each ingress/egress entry's name and peer, a group definition's) whole, every list
    index kept: the rules find the same selectors at the same paths, so the same findings. Render
    runs those rules over every object of an environment at once; the view keeps that at a few
    hundred bytes per object. A rule that starts reading another field must be added here
    (``tests/test_render_cross_view.py`` compares the findings both ways).
    """
    view: dict[str, Any] = {key: data[key] for key in ("kind", "metadata", "spec") if key in data}
    metadata = view.get("metadata")
    if isinstance(metadata, dict):
        view["metadata"] = {key: metadata[key] for key in ("name", "namespace") if key in metadata}
    body = view.get("spec")
    if not isinstance(body, dict):
        return view
    cut: dict[str, Any] = {}
    target = body.get("target")
    if "target" in body:
        cut["target"] = {key: target[key] for key in ("selector", "policymode") if key in target} \
            if isinstance(target, dict) else target
    for name in ("ingress", "egress"):
        rules = body.get(name)
        if name in body:
            cut[name] = [{key: rule[key] for key in ("name", "selector") if key in rule}
                         if isinstance(rule, dict) else rule for rule in rules] if isinstance(rules, list) else rules
    if "selector" in body:
        cut["selector"] = body["selector"]
    view["spec"] = cut
    return view


def process_binary(rule: dict[str, Any]) -> str:
    """The executable a process rule names: its name, else the last part of its cleaned path (nv.processes)."""
    return executable(text(rule, "name"), text(rule, "path"))


def allowed_binary(rule: dict[str, Any], binaries: set[str] | frozenset[str]) -> str | None:
    """Which of ``binaries`` an allow rule lets run: by its name, or by the executable its path names.

    ``{name: entrypoint, path: /bin/bash}`` allows bash under another name; both count. Values are
    trimmed, as the controller stores them (S44).
    """
    if text(rule, "action").strip() != "allow":
        return None
    by_path = executable("", text(rule, "path"))
    return next((b for b in (process_binary(rule), by_path) if b in binaries), None)


def target_mode(obj: RenderedObject) -> str | None:
    value = spec(obj).get("target")
    mode = value.get("policymode") if isinstance(value, dict) else None
    return mode if isinstance(mode, str) and mode not in ("", "N/A") else None


def text(entry: dict[str, Any], key: str) -> str:
    """A string field of an entry, or "" when it is absent or not a string (the schema reports that)."""
    value = entry.get(key)
    return value if isinstance(value, str) else ""
