"""``propose --write``: apply proposals to policies/ and bind new peers in the environment file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from compiler.errors import NvPolicyError
from compiler.learn.propose import Proposal


def write_proposals(project: Path, env: str, proposals: Sequence[Proposal]) -> list[str]:
    # Interim: waits for the import feature's merge functions (branch issue6).
    raise NvPolicyError("--write is not available yet in this build")
