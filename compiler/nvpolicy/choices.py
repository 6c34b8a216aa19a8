"""Fixed-choice option values: the ``--help`` text that lists them and the check with a did-you-mean.

Each result type keeps its one registry of values (render's layouts in pipeline, diff's formats in
diff, the reporters in report, ...); this module only turns such a registry into help text and
refuses a value outside it, so every option lists and checks its values the same way.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# render's layouts (pipeline.layout): one file per CR plus kustomization.yaml, or kind: List files.
RENDER_LAYOUTS = ("crds", "list")
# What commands whose result is a short summary print: a line for people or one JSON document.
SUMMARY_FORMATS = ("text", "json")
EXPECTATION_FORMATS = ("text", "json", "junit")  # nvpolicy test (report/expectations.py renders them)


def plural(count: int, noun: str) -> str:
    """``1 file``, ``2 files``: counts in messages read as English."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def choice_help(lead: str, values: Iterable[str]) -> str:
    """``lead: a, b or c.`` for an option's help (so ``--help`` lists every accepted value)."""
    names = list(values)
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return f"{lead}: {listed}."


def did_you_mean(value: str, values: Iterable[str]) -> str | None:
    """``did you mean 'x'?`` for the closest of ``values`` (case-insensitive), or None."""
    names = list(values)
    lowered = {name.lower(): name for name in names}
    close = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.6)
    return f"did you mean {lowered[close[0]]!r}?" if close else None


def one_value(option: str, values: list[str], why: str) -> str | None:
    """The one value of a repeatable-looking option that takes one (None when absent).

    Click keeps the last of a repeated single-value option silently; a second ``--env`` is refused
    with ``why`` instead, so nobody believes both environments were used.
    """
    from nvpolicy.errors import NvPolicyError

    distinct = list(dict.fromkeys(values))
    if len(distinct) > 1:
        raise NvPolicyError(f"{option} given {len(distinct)} times ({', '.join(distinct)}); {why}",
                            hint="run the command once per value, e.g. for env in $(nvpolicy envs); do ...; done")
    return distinct[0] if distinct else None


def check_choice(option: str, value: str, values: Iterable[str]) -> str:
    """``value`` when it is one of ``values``; else an input error naming them, with a did-you-mean."""
    from nvpolicy.errors import NvPolicyError

    names = list(values)
    if value in names:
        return value
    hint = did_you_mean(value, names)
    raise NvPolicyError(f"{option} {value!r} is not one of: {', '.join(names)}", hint=hint)
