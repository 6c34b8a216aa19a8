"""One rendered environment's model: the pipeline's render, compiled as the controller would."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nvpolicy.flowmodel.decide import Model, Settings
from nvpolicy.flowmodel.policy import build_policy
from nvpolicy.model import SourceDocument
from nvpolicy.pipeline import Rendered, render_environment


@dataclass(frozen=True)
class EnvironmentModel:
    rendered: Rendered
    model: Model

    @property
    def name(self) -> str:
        return self.rendered.environment.name


def environment_model(project: Path, env: str, overrides: Iterable[str] = (),
                      settings: Settings | None = None,
                      documents: Sequence[SourceDocument] | None = None) -> EnvironmentModel:
    """``documents``: the policies, loaded once when several environments are modelled."""
    rendered = render_environment(project, env, overrides, documents)
    return EnvironmentModel(rendered, Model(build_policy(rendered.objects), settings))


def chosen_environments(project: Path, env: str | None, every: bool) -> list[str]:
    """``--env E`` or ``--all``; exactly one of them."""
    from nvpolicy.environment import environment_names
    from nvpolicy.errors import NvPolicyError

    if every == (env is not None):
        raise NvPolicyError("name one environment with --env ENV, or every environment with --all")
    if env is not None:
        return [env]
    names = environment_names(project)
    if not names:
        raise NvPolicyError(f"no environments/*.yaml in {project}")
    return names
