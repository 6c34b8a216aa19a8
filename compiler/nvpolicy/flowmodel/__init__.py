"""An offline model of how NeuVector decides a connection and a process start for one rendered environment.

Facts come from ``../shared/reference/ENFORCEMENT.md`` (section numbers are cited as §x.y). The package is
named ``flowmodel`` because ``nvpolicy.model`` is already the module of the pipeline's shared types.

- :mod:`endpoints`: what a flow's ends are (a workload, an external address or name, the nodes) and
  which group criteria select them, in three-valued logic (True, False, None for "cannot tell").
- :mod:`policy`: the rendered CRs as the controller compiles them: ordered network rules, modes,
  process profiles.
- :mod:`decide`: first match, mode adjustment and contention, the implicit rule; process decisions.
- :mod:`expect`, :mod:`replay`, :mod:`explain`, :mod:`graph`: what the commands build on top.
"""
