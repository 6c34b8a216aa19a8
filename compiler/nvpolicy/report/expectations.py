"""``nvpolicy test`` results as text, JSON (shape in the README) and JUnit XML for CI."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from nvpolicy.flowmodel.expect import Outcome


def render(outcomes: Sequence[Outcome], envs: Sequence[str], output_format: str, verbose: bool = False) -> str:
    if output_format == "json":
        return as_json(outcomes, envs)
    if output_format == "junit":
        return as_junit(outcomes, envs)
    return as_text(outcomes, envs, verbose)


def as_text(outcomes: Sequence[Outcome], envs: Sequence[str], verbose: bool = False) -> str:
    """Each failed expectation in detail; a passing one only when ``verbose``: a CI log of 10,000
    passing expectations is read by nobody, and writing it cost as much as deciding them."""
    lines = []
    listed = outcomes if verbose else [outcome for outcome in outcomes if not outcome.passed]
    for outcome in listed:
        decision = outcome.decision
        mark = "PASS" if outcome.passed else "FAIL"
        lines.append(f"{mark} [{outcome.env}] {outcome.expectation.title()}: {decision.verdict}"
                     + ("" if outcome.passed else f" (expected {outcome.expectation.expected})"))
        lines.append(f"    decided by {decision.decided_by()}: {decision.reason}")
        if not outcome.passed:
            lines.append(f"    expectation at {outcome.expectation.location}")
        lines += [f"    assumes: {text}" for text in decision.assumptions]
        lines += [f"    unknown: {text}" for text in decision.unknown]
    failed = sum(not o.passed for o in outcomes)
    if not verbose and len(outcomes) > failed:
        lines.append(f"{len(outcomes) - failed} passing not listed: --verbose lists each with the rule that decided "
                     "it and what it assumes")
    lines.append(f"{len(outcomes) - failed} passed, {failed} failed ({', '.join(envs)})")
    return "\n".join(lines) + "\n"


def as_json(outcomes: Sequence[Outcome], envs: Sequence[str]) -> str:
    failed = sum(not o.passed for o in outcomes)
    data: dict[str, Any] = {
        "environments": list(envs),
        "summary": {"total": len(outcomes), "passed": len(outcomes) - failed, "failed": failed},
        "results": [outcome.as_json() for outcome in outcomes],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def as_junit(outcomes: Sequence[Outcome], envs: Sequence[str]) -> str:
    from xml.etree import ElementTree  # only for --format junit (~3 ms of every test's start otherwise)

    suites = ElementTree.Element("testsuites", name="nvpolicy test")
    for env in envs:
        mine = [o for o in outcomes if o.env == env]
        failed = sum(not o.passed for o in mine)
        suite = ElementTree.SubElement(suites, "testsuite", name=f"nvpolicy.{env}", tests=str(len(mine)),
                                       failures=str(failed), errors="0", skipped="0")
        for outcome in mine:
            case = ElementTree.SubElement(suite, "testcase", classname=f"nvpolicy.{env}",
                                          name=outcome.expectation.title(), file=outcome.expectation.file)
            detail = (f"{outcome.decision.verdict}, decided by {outcome.decision.decided_by()}: "
                      f"{outcome.decision.reason}")
            if not outcome.passed:
                failure = ElementTree.SubElement(case, "failure", type="expectation",
                                                 message=f"expected {outcome.expectation.expected}, got "
                                                         f"{outcome.decision.verdict}")
                failure.text = f"{outcome.expectation.location}\n{detail}"
            else:
                ElementTree.SubElement(case, "system-out").text = detail
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"
