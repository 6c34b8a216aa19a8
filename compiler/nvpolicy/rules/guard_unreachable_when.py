"""unreachable-when: a policy document's ``when:`` admits at least one environment of the project.

A ``when:`` that is false for every ``environments/*.yaml`` (partials left out) means the document
is never rendered anywhere: usually a misspelt environment name (``env == 'prdo'``) or an
environment that was renamed. lint evaluates the condition for every environment, this one with
its ``--set`` overrides; the finding is the same in each environment's lint.

PASS::

    # environments: dev, qa, prod
    when: "{{ env in ['qa', 'prod'] }}"

FAIL::

    # environments: dev, qa, prod
    when: "{{ env == 'prdo' }}"
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from nvpolicy.errors import NvPolicyError
from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext

if TYPE_CHECKING:
    from nvpolicy.render import Renderer

ID = "unreachable-when"
LEVEL = "warning"
DESCRIPTION = "A policy document's when: admits at least one environment (else it is never rendered)."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    from nvpolicy.render import WHEN_KEY
    from nvpolicy.render import Renderer as Evaluator

    # lint passes the source documents (a document that rendered to nothing is not among ``objects``)
    # and every environment of the project; alone, the rule judges ``objects`` against its own environment.
    documents = context.options.get("documents", objects)
    guarded = [doc for doc in documents if WHEN_KEY in doc.data]
    if not guarded:
        return
    environments = context.options.get("environments") or [context.environment]
    renderers = [Evaluator(environment) for environment in environments if environment is not None]
    for document in guarded:
        if renderers and not any(_admits(renderer, document) for renderer in renderers):
            names = ", ".join(sorted(renderer.environment.name for renderer in renderers))
            yield Hit(document, (WHEN_KEY,), f"when: admits none of the environments ({names}): this document is "
                      "never rendered", "check the environment names in the condition (nvpolicy envs lists them), "
                      "or delete the document")


def _admits(renderer: Renderer, document: RenderedObject) -> bool:
    try:
        return bool(renderer.includes(document.source))
    except NvPolicyError:
        return True  # a condition that cannot be evaluated is render's error to report, not this rule's
