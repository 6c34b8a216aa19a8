"""file-nodes: file rules cannot be set on the ``nodes`` group.

PASS::

    kind: NvClusterSecurityRule
    metadata: {name: nodes}
    spec:
      target: {selector: {name: nodes}}
      process: [{name: sshd, action: allow, path: /usr/sbin/sshd}]

FAIL::

    kind: NvClusterSecurityRule
    metadata: {name: nodes}
    spec:
      target: {selector: {name: nodes}}
      file: [{behavior: monitor_change, filter: /etc/passwd}]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nvpolicy.model import RenderedObject
from nvpolicy.rules import Hit, RuleContext, says
from nvpolicy.rules._walk import spec, targets

ID = "file-nodes"
LEVEL = "error"
DESCRIPTION = "File rules are not allowed on the nodes group (S28)."


def check(objects: Sequence[RenderedObject], context: RuleContext) -> Iterator[Hit]:
    for selector in targets(objects, context):
        obj = selector.obj
        if selector.name == "nodes" and spec(obj).get("file"):
            yield Hit(obj, ("spec", "file"), "file rules cannot be used on the 'nodes' group"
                      + says("S28", 'Rule file format error:  profile is not supported for "nodes"'),
                      "put file rules on a container group")
