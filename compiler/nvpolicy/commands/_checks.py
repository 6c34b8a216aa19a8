"""Options shared by the commands that run NeuVector's checks (validate, lint, render)."""

from __future__ import annotations

from typing import Annotated

import typer

APPLY_PATHS = ("crd", "rest")
ApplyPath = Annotated[str, typer.Option(
    "--for", help="How the objects reach NeuVector: crd (kubectl/GitOps, the default) or rest (the REST import, "
                  "POST /v1/file/group/config: no rule-name checks, no priority, referrals need criteria).")]


def apply_path(value: str) -> str:
    """The ``--for`` value, checked: a wrong one is bad input (exit 2)."""
    from nvpolicy.errors import NvPolicyError

    chosen = value.lower()
    if chosen not in APPLY_PATHS:
        raise NvPolicyError(f"--for {value!r} is not one of: {', '.join(APPLY_PATHS)}")
    return chosen
