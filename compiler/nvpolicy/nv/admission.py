"""Admission-control criteria as the controller checks them (NvAdmissionControlSecurityRule).

Read from neuvector/neuvector at 1b8b707: the option tables ``getAdmK8sDenyRuleOptions`` /
``getAdmK8sExceptRuleOptions`` and ``GetCustomCriteriaOptions``
(controller/nvk8sapi/nvvalidatewebhookcfg/admission/admission.go), the value normalisation
``AdmCriteria2CLUS`` with ``MergeAdmRuleCriteriaREST`` (controller/cache/admission.go) and the
check ``validateAdmCtrlCriteria`` (controller/rest/admission.go). The controller first normalises
the criteria of a rule, then checks the normalised criteria in order and stops at the first error;
:func:`normalize` and :func:`criteria_error` do the same, on plain data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nvpolicy.nv.goregexp import compile_error

# metadata.name: the webhook admits only these two on CREATE; `fed` only on a federation primary.
LOCAL_NAME = "local"
FED_NAME = "fed"
# Rule ids below this name NeuVector's default rules; ids from it up are ignored and reassigned.
FIRST_USER_RULE_ID = 1000

ALLOW = "allow"
DENY = "deny"
DENY_RULE_MODES = ("", "monitor", "protect")  # allow rules take only ""

SET_OPS = ("containsAll", "containsAny", "notContainsAny", "containsOtherThan")
MERGED_OPS = ("containsAny", "notContainsAny")  # criteria of one name with these ops are merged first
REGEX_SET_OPS = ("regexContainsAnyEx", "!regexContainsAnyEx")
SPLIT_OPS = SET_OPS + REGEX_SET_OPS  # values split on "," and trimmed, empty items dropped
EXIST_OPS = ("exist", "notExist")
NUMBER_OPS = frozenset({">=", ">", "<="})  # a criterion offering one of these takes a number
RESOURCE_LIMIT = "resourceLimit"  # kept even with no value: its sub-criteria carry the limits
STORAGE_CLASS = "storageClassName"
STORAGE_CLASS_COMPANIONS = frozenset({STORAGE_CLASS, "namespace"})
CUSTOM_PATH = "customPath"
RISKY_ROLE = "saBindRiskyRole"
CVE_SCORE_COUNT = "cveScoreCount"

# cache.predefinedRiskyRoles: the only values `saBindRiskyRole` takes.
RISKY_ROLES = frozenset({
    "risky_role_view_secret", "risky_role_any_action_workload", "risky_role_any_action_rbac",
    "risky_role_create_pod", "risky_role_exec_into_container",
})

# GetCustomCriteriaOptions: the ops of a `type: customPath` criterion by its value_type.
CUSTOM_PATH_OPS: Mapping[str, tuple[str, ...]] = {
    "key": EXIST_OPS,
    "string": (*EXIST_OPS, *SET_OPS),
    "number": (*EXIST_OPS, "=", "!=", ">=", ">", "<="),
    "boolean": (*EXIST_OPS, "="),
}


@dataclass(frozen=True)
class Option:
    """One criterion the controller offers: its ops (none: any op), fixed values, sub-criteria."""

    ops: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    sub_options: Mapping[str, Option] | None = None


_BOOL = ("true", "false")
_SET1 = Option(MERGED_OPS)
_ALL_SET = Option(SET_OPS)
_USER = Option(("containsAny", "notContainsAny", "regex", "!regex"))
_GROUPS = Option((*SET_OPS, "regex", "!regex"))
_VERIFIERS = Option(("containsAll", "containsAny", "notContainsAny"))
_PUBLISH_DAYS = {"publishDays": Option((">=",))}
_DENY_COUNT = Option((">=",), sub_options=_PUBLISH_DAYS)
_ALLOW_COUNT = Option(("<=", ">="))
_FLAG = Option(("=",), _BOOL)
_TRUE_ONLY = Option(("=",), ("true",))
_LIMITS = Option((">", "<="))

_CVE_COUNTS = ("cveCriticalCount", "cveHighCount", "cveHighCountNoCritical", "cveMediumCount",
               "cveCriticalWithFixCount", "cveHighWithFixCount", "cveHighWithFixCountNoCritical")
_COMMON_FLAGS = ("imageScanned", "runAsPrivileged", "runAsRoot", "imageSigned", "imageCompliance", "envVarSecrets")
_BASE: Mapping[str, Option] = {
    "image": _SET1, "imageRegistry": _SET1, "namespace": _SET1, "user": _USER, "userGroups": _GROUPS,
    "labels": _ALL_SET, "annotations": _ALL_SET, "mountVolumes": _ALL_SET, "envVars": _ALL_SET,
    "cveNames": _ALL_SET, "modules": _ALL_SET, "imageVerifiers": _VERIFIERS,
}

# getAdmK8sDenyRuleOptions: deny rules, 37 criteria.
DENY_OPTIONS: Mapping[str, Option] = {
    **_BASE,
    **{name: _DENY_COUNT for name in _CVE_COUNTS},
    CVE_SCORE_COUNT: Option((">=",), sub_options={"count": Option((">=",))}),
    **{name: _FLAG for name in (*_COMMON_FLAGS, "imageNoOS", "sharePidWithHost", "shareIpcWithHost",
                                "shareNetWithHost")},
    "allowPrivEscalation": _TRUE_ONLY,
    "pspCompliance": _TRUE_ONLY,
    RESOURCE_LIMIT: Option((), sub_options={name: _LIMITS for name in
                                            ("cpuRequest", "cpuLimit", "memoryRequest", "memoryLimit")}),
    "violatePssPolicy": Option(("=",), ("restricted", "baseline")),
    CUSTOM_PATH: Option(()),
    RISKY_ROLE: Option(("containsTagAny",)),
    STORAGE_CLASS: _SET1,
}

# getAdmK8sExceptRuleOptions: allow rules, 25 criteria.
ALLOW_OPTIONS: Mapping[str, Option] = {
    **_BASE,
    **{name: _ALLOW_COUNT for name in _CVE_COUNTS},
    **{name: _FLAG for name in _COMMON_FLAGS},
}


def options_for(action: str) -> Mapping[str, Option]:
    return DENY_OPTIONS if action == DENY else ALLOW_OPTIONS


@dataclass
class Criterion:
    """A criterion as the controller holds it after normalisation: ``value`` items joined by ","."""

    index: int  # position in the rule's criteria as written (the first of merged ones)
    name: str
    op: str
    value: str
    type: str = ""
    value_type: str = ""
    sub_criteria: list[Criterion] | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Normalized:
    """What normalisation keeps, and the criteria it silently drops (no value left)."""

    criteria: tuple[Criterion, ...]
    dropped: tuple[int, ...]  # indexes, as written, of criteria dropped for an empty value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def normalize(criteria: Sequence[Mapping[str, Any]]) -> Normalized | None:
    """``MergeAdmRuleCriteriaREST`` then ``AdmCriteria2CLUS``; None when nothing is left (an error).

    Value normalisations that cannot fail a check (image names, registries, upper-cased CVE names)
    are left out: they do not change whether a value is accepted.
    """
    merged: list[Criterion] = []
    first: dict[tuple[str, str], Criterion] = {}
    for index, raw in enumerate(criteria):
        sub = raw.get("sub_criteria")
        item = Criterion(index, _text(raw.get("name")), _text(raw.get("op")), _text(raw.get("value")),
                         _text(raw.get("type")), _text(raw.get("value_type")), None, raw)
        mergeable = item.op in MERGED_OPS and item.name != CUSTOM_PATH and not (isinstance(sub, list) and sub)
        if mergeable and (item.op, item.name) in first:
            earlier = first[(item.op, item.name)]
            earlier.value = f"{earlier.value},{item.value}"
            continue
        if mergeable:
            first[(item.op, item.name)] = item
        merged.append(item)
    kept: list[Criterion] = []
    dropped: list[int] = []
    for item in merged:
        if item.op in EXIST_OPS:
            kept.append(item)
            continue
        items = [part.strip() for part in item.value.split(",")] if item.op in SPLIT_OPS else [item.value.strip()]
        if item.type in (CUSTOM_PATH, RISKY_ROLE):
            item.name = item.type
        values = list(dict.fromkeys(part for part in items if part))
        if not values and item.name != RESOURCE_LIMIT:
            dropped.append(item.index)
            continue
        item.value = ",".join(values)
        sub = item.raw.get("sub_criteria")
        if isinstance(sub, list) and sub:
            inner = normalize([entry for entry in sub if isinstance(entry, Mapping)])
            if inner is None:
                return None
            item.sub_criteria = list(inner.criteria)
        kept.append(item)
    return Normalized(tuple(kept), tuple(dropped)) if kept else None


def _is_float(text: str) -> bool:
    """Go ``strconv.ParseFloat``: decimal or hex floats and inf/nan; out-of-range values fail (ErrRange)."""
    if re.fullmatch(r"[+-]?(inf|infinity|nan)", text, re.IGNORECASE):
        return True
    try:
        if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
            return not math.isinf(float(text))
        if re.fullmatch(r"[+-]?0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+", text):
            return not math.isinf(float.fromhex(text))
    except (ValueError, OverflowError):
        return False
    return False


def _custom_path(item: Criterion) -> tuple[bool, bool]:
    """``validateCustomPathCriteria``: (op allowed, value allowed)."""
    ops = CUSTOM_PATH_OPS.get(item.value_type)
    if ops is None:
        return False, False
    op_ok = item.op in ops
    if item.value_type == "key" or item.op in EXIST_OPS:
        return op_ok, True
    parts = item.value.split(",")
    if item.value_type == "string":
        return op_ok, len(item.value.encode()) > 1
    if item.value_type == "number":
        return op_ok, all(_is_float(part) for part in parts)
    return op_ok, all(part in _BOOL for part in parts)


@dataclass(frozen=True)
class CriteriaError:
    """The first criterion the controller refuses: its index as written, NeuVector's message."""

    index: int
    message: str
    in_sub_criteria: bool = False  # the message is about one of its sub_criteria


def criteria_error(criteria: Sequence[Criterion], options: Mapping[str, Option] | None,
                   action: str) -> CriteriaError | None:
    """``validateAdmCtrlCriteria``: the first criterion NeuVector refuses, or None."""
    if criteria and options is None:
        return CriteriaError(criteria[0].index, "Invalid criteria options")
    table = options or {}
    has_storage_class = False
    for item in criteria:
        if item.type in (CUSTOM_PATH, RISKY_ROLE):
            if item.type == CUSTOM_PATH:
                op_ok, value_ok = _custom_path(item)
            else:
                option = table.get(item.name)
                op_ok = option is not None and item.op in option.ops
                value_ok = all(part in RISKY_ROLES for part in item.value.split(","))
            if action != DENY:
                return CriteriaError(item.index, f"Unsupported criterion name: {item.name}")
            if not op_ok:
                return CriteriaError(item.index, f"Invalid criterion operator: {item.op}")
            if not value_ok:
                return CriteriaError(item.index, f"Invalid criterion value: {item.value}")
            continue
        if item.op in REGEX_SET_OPS:
            for part in item.value.split(","):
                if compile_error(part.strip()) is not None:
                    return CriteriaError(item.index, f"Invalid criterion value for regex operator: {item.value}")
        found = table.get(item.name)
        if found is None:
            return CriteriaError(item.index, f"Unsupported criterion name: {item.name}")
        if found.ops and item.op not in found.ops:
            return CriteriaError(item.index, f"Invalid criterion operator: {item.op}")
        if found.values:
            value_ok = item.value in found.values
        elif NUMBER_OPS.intersection(found.ops):
            value_ok = _is_float(item.value)
        else:
            value_ok = True
        if not value_ok:
            return CriteriaError(item.index, f"Invalid criterion value: {item.value}")
        sub = item.sub_criteria or []
        if sub:
            inner = criteria_error(sub, found.sub_options, action)
            if inner is not None:
                return CriteriaError(item.index, inner.message, True)
        if item.name == STORAGE_CLASS:
            has_storage_class = True
    if has_storage_class:
        for item in criteria:
            if item.name not in STORAGE_CLASS_COMPANIONS:
                return CriteriaError(item.index, "The StorageClass Name criteria can only be used in conjunction "
                                                 f"with namespace criteria. Criterion name: {item.name}")
    return None
