"""nvpolicy: compile one environment-neutral NeuVector policy source into validated CRs per environment."""

from __future__ import annotations

__version__ = "0.2.0"
