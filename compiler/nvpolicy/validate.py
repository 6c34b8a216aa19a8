"""Offline validation of NeuVector objects: the strict JSON Schemas, then the controller's import checks."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nvpolicy.model import API_VERSION, KINDS, Finding, RenderedObject

if TYPE_CHECKING:
    from nvpolicy.rules import CheckSettings

SCHEMA_RULE = "schema"
UNKNOWN_FIELD_RULE = "unknown-field"
UNKNOWN_FIELD_HELP = ("X1: a field the CRD does not define is pruned by the API server before NeuVector sees "
                      "it: a warning in validate (what it meant is lost), an error in render and lint (the source "
                      "is ours).")
REST_IMPORT_RULE = "rest-import"
REST_IMPORT_HELP = ("X3: with --for rest, the file is read as POST /v1/file/group/config reads it: parts split on "
                    "lines of exactly '---', Lists of one kind family, apiVersion neuvector.com/v1.")
SIZE_RULE = "object-size"
SIZE_HELP = "X2: a CR whose JSON is 512 KiB or more after gzip is denied by the webhook."
# S23: the CRD defines the group metric fields on the target selector only; on a peer they are pruned.
METRIC_FIELDS = frozenset({"mon_metric", "grp_sess_cur", "grp_sess_rate", "grp_band_width"})


def schema_file(kind: str) -> str:
    from nvpolicy.nv.kinds import REGISTRY

    return REGISTRY[kind].schema_file


def schema_findings(obj: RenderedObject, ours: bool = True) -> list[Finding]:
    """The schema's findings for one object, pointing at the source: the most relevant error per place.

    Every wrong place is reported at once, so that fixing a file takes one run, not one run per mistake.
    A field the schema does not define is reported on its own (X1), as an error when the source is
    ``ours`` and as a warning otherwise: the API server prunes it, NeuVector never sees it.
    """
    from nvpolicy.schema_registry import best_match, validator

    data = obj.data
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        return [_kind_finding(obj, kind)]
    if data.get("apiVersion") != API_VERSION:
        return [Finding(obj.locate(("apiVersion",)), "error",
                        f"apiVersion is {data.get('apiVersion')!r}, expected {API_VERSION!r}", SCHEMA_RULE, obj.id,
                        ("apiVersion",), f"set apiVersion: {API_VERSION}")]
    by_place: dict[tuple[Any, ...], list[Any]] = {}
    findings = []
    for error in validator(schema_file(kind)).iter_errors(data):
        if error.validator == "additionalProperties":
            findings.extend(_unknown_fields(obj, error, kind, ours))
        else:
            by_place.setdefault(tuple(error.absolute_path), []).append(error)
    for path, errors in sorted(by_place.items(), key=lambda item: [str(part) for part in item[0]]):
        error = best_match(errors)
        findings.append(Finding(obj.locate(path), "error", describe_schema_error(error, kind) + _check_id(path),
                                SCHEMA_RULE, obj.id,
                                path, _schema_hint(error, kind, path)))
    return findings


def validate_objects(objects: Sequence[RenderedObject], settings: CheckSettings | None = None, *,
                     prechecked: Sequence[RenderedObject] = (), cross: bool = True) -> list[Finding]:
    """Schema findings for every object, then the import checks across all of them.

    For an object that fails the schema, a per-object rule that reports the same place replaces
    the schema's generic finding with its specific one (``ports 'tcp/9-1' are invalid: …`` rather
    than "not a valid ports value"). An object whose only findings are warnings (pruned fields)
    is what NeuVector receives once they are gone, so every check runs on it.

    Render splits the work (``render_run``): ``cross=False`` checks objects one by one only (a
    worker's share of the policy files); ``prechecked`` objects passed those checks already (in a
    worker, or when render's cache was made) and only meet the cross-object rules, with the others.
    """
    from nvpolicy.rules import IMPORT_CHECKS, CheckSettings, load_rules, run_rules

    settings = settings or CheckSettings()
    rules = load_rules(IMPORT_CHECKS)
    per_object = tuple(rule for rule in rules if not getattr(rule, "CROSS_OBJECT", False))
    findings: list[Finding] = []
    valid: list[RenderedObject] = []
    for obj in objects:
        problems = schema_findings(obj, settings.ours) + size_findings(obj)
        if any(problem.level == "error" for problem in problems):
            findings.extend(_refine(obj, problems, per_object, settings))
        else:
            findings.extend(problems)
            valid.append(obj)
    if not prechecked and cross:
        findings.extend(run_rules(valid, rules, settings=settings))
        return findings
    findings.extend(run_rules(valid, per_object, settings=settings))
    if cross:
        cross_rules = tuple(rule for rule in rules if getattr(rule, "CROSS_OBJECT", False))
        findings.extend(run_rules([*prechecked, *valid], cross_rules, settings=settings))
    return findings


def size_findings(obj: RenderedObject) -> list[Finding]:
    """X2: the webhook measures the request's CRD record after gzip."""
    from nvpolicy.nv.limits import CRD_RECORD_LIMIT, gzip_size

    size = gzip_size(obj.data)
    if size is None or size < CRD_RECORD_LIMIT:
        return []
    return [Finding(obj.locate(), "error", f"{obj.id} is {size} bytes after gzip, the webhook's limit is "
                    f"{CRD_RECORD_LIMIT} [X2; NeuVector: \" CREATE denied: CRD resource size({size}) is too big\"]",
                    SIZE_RULE, obj.id, (), "split its rules over several CRs")]


def _unknown_fields(obj: RenderedObject, error: Any, kind: str, ours: bool) -> list[Finding]:
    allowed = sorted(error.schema.get("properties", {}))
    where = tuple(error.absolute_path)
    findings = []
    for key in (key for key in error.instance if key not in allowed):
        path = (*where, key)
        if key in METRIC_FIELDS and len(where) >= 2 and where[-1] == "selector" and where[-3:-2] != ("target",):
            message = (f"{key!r} is a target-selector field: on a peer the API server prunes it and NeuVector "
                       "clears it, so it does nothing [S23]")
            hint = "set group metrics on the rule whose target is this group"
        else:
            lost = "the API server prunes it" + ("" if ours else ", so what it says is lost")
            message = f"unknown field {key!r} for {kind}: {lost} [X1]"
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed fields: {', '.join(allowed)}"
        findings.append(Finding(obj.locate_key(path), "error" if ours else "warning", message, UNKNOWN_FIELD_RULE,
                                obj.id, path, hint))
    return findings


def _refine(obj: RenderedObject, problems: list[Finding], rules: Sequence[Any],
            settings: CheckSettings) -> list[Finding]:
    """The schema's findings, each replaced by a rule's finding about the same place if there is one,
    plus the rules' findings about other places.

    A rule and the schema objecting to the same value (one path is a prefix of the other) is one
    problem, told by the rule, which says more. The schema checks types; the values it lets through
    (ports, applications, paths, priorities) are the rules', so their findings elsewhere in the object
    are reported in the same run. Cross-object rules wait until the object has the right shape.
    """
    from nvpolicy.rules import run_rules

    kind = obj.data.get("kind")
    if all(p.rule != SCHEMA_RULE for p in problems) or not isinstance(kind, str) or kind not in KINDS:
        return problems
    try:
        specific = run_rules([obj], rules, settings=settings)
    except (TypeError, AttributeError, KeyError, ValueError):  # rules assume the schema's shape; best effort only
        return problems
    refined: list[Finding] = []
    used: list[Finding] = []
    for problem in problems:
        if problem.rule != SCHEMA_RULE:
            refined.append(problem)
            continue
        where = problem.path
        matching = [f for f in specific if len(f.path) >= 2 and _related(where, f.path)]
        used.extend(matching)
        refined.extend(f for f in matching or [problem] if f not in refined)
    refined.extend(f for f in specific if f not in used and f not in refined)
    return sorted(refined, key=lambda f: (f.location, f.rule))


def _related(one: tuple[Any, ...], other: tuple[Any, ...]) -> bool:
    size = min(len(one), len(other))
    return one[:size] == other[:size]


def _kind_finding(obj: RenderedObject, kind: Any) -> Finding:
    known = sorted(KINDS)
    close = difflib.get_close_matches(str(kind), known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"NeuVector kinds: {', '.join(known)}"
    what = "has no 'kind'" if kind is None else f"kind {kind!r} is not a NeuVector custom resource"
    return Finding(obj.locate(("kind",)), "error", what, SCHEMA_RULE, obj.id, ("kind",), hint)


# The controller checks whose values the schema alone decides (CONTROLLER-CHECKS.md), by the key holding them.
_SCHEMA_CHECKS = {
    "grp_sess_cur": "S22", "grp_sess_rate": "S22", "grp_band_width": "S22", "mon_metric": "S22",
    "policymode": "S24", "action": "S35", "op": "S12", "key": "S11",
}


def _check_id(path: tuple[Any, ...]) -> str:
    """`` [S22]`` when a schema finding is one of the controller's checks, else ""."""
    keys = [part for part in path if isinstance(part, str)]
    if not keys:
        return ""
    last = keys[-1]
    if keys[-2:] == ["process_profile", "mode"]:
        return " [S26]"
    if keys[-2:] == ["process_profile", "baseline"]:
        return " [S27]"
    if last == "action" and len(keys) >= 3 and keys[-3] in ("dlp", "waf"):
        return " [S30]"
    if last == "action" and "process" in keys:
        return ""
    found = _SCHEMA_CHECKS.get(last)
    return f" [{found}]" if found else ""


def describe_schema_error(error: Any, kind: str) -> str:
    validator = error.validator
    if validator == "additionalProperties":
        extra = [key for key in error.instance if key not in error.schema.get("properties", {})]
        names = ", ".join(repr(key) for key in extra)
        return f"unknown field {names} for {kind}: the API server would drop it silently"
    if validator == "required":
        return str(error.message).replace("is a required property", "is required")
    if validator == "enum":
        allowed = ", ".join(str(value) for value in error.validator_value)
        return f"{error.instance!r} is not one of: {allowed}"
    if validator == "pattern":
        field = next((part for part in reversed(error.absolute_path) if isinstance(part, str)), "value")
        return f"{error.instance!r} is not a valid {field} value"
    if validator == "type":
        kind = _json_type(error.instance)
        article = "an" if kind[0] in "aeiou" else "a"
        return f"{_show(error.instance)} is {article} {kind}, expected {error.validator_value}"
    if validator in ("oneOf", "anyOf") and error.context:
        deepest = max(error.context, key=lambda sub: len(sub.absolute_path))
        return describe_schema_error(deepest, kind)
    if validator == "not" and isinstance(error.instance, dict):
        return f"{_show(error.instance)} is not allowed here"
    return str(error.message)


def _schema_hint(error: Any, kind: str, path: tuple[Any, ...]) -> str | None:
    field = path[-1] if path else None
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = [key for key in error.instance if key not in allowed]
        close = difflib.get_close_matches(str(extra[0]), allowed, n=1) if extra else []
        return f"did you mean {close[0]!r}?" if close else f"allowed fields: {', '.join(allowed)}"
    if field == "ports":
        return "ports are like 'any', 'tcp/5432', 'udp/53', '8000-8080' or 'tcp/80, tcp/443'"
    if field == "applications" or (len(path) >= 2 and path[-2] == "applications"):
        return "application names are NeuVector's DPI names, e.g. HTTP, SSL, PostgreSQL, Redis, DNS, any"
    if field == "name" and path[:1] == ("metadata",):
        return "metadata names are DNS-1123: lower-case letters, digits, '-' and '.'"
    if field == "namespace" and path[:1] == ("metadata",):
        return f"{kind} is cluster-scoped: remove metadata.namespace" if error.validator == "not" else None
    return None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return {dict: "mapping", list: "list", str: "string", int: "integer", float: "number"}.get(type(value), "value")


def rest_import_findings(text: str, file: str) -> list[Finding]:
    """X3: what the REST group-policy import says about a file's text (the first fatal problem aborts it all)."""
    from nvpolicy.model import Location
    from nvpolicy.nv.rest_import import problems

    return [Finding(Location(file, problem.line, 1), "error" if problem.fatal else "warning",
                    f"{problem.message} [X3]" if not problem.fatal else
                    f"REST import refuses the whole file [X3; NeuVector: \"{problem.message}\"]", REST_IMPORT_RULE,
                    None, (), "split documents with lines of exactly '---'; one kind family per List")
            for problem in problems(text)]
