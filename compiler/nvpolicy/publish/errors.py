"""Why publish refuses: each is exit 2 with nothing changed (a rejected push keeps the local commit)."""

from __future__ import annotations

from nvpolicy.errors import NvPolicyError


class DeployRepoError(NvPolicyError):
    """The deploy repo is not a git work tree, or not in a state publish can commit into."""


class DirtySourceError(NvPolicyError):
    """The policy project has uncommitted changes, so the commit could not name its source."""


class PushRejectedError(NvPolicyError):
    """The remote refused the push; the commit stays in the local deploy repo."""
