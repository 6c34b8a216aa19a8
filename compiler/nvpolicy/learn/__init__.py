"""Turning what NeuVector learned into the environment-neutral source.

The modules take and return plain data (dicts as YAML gives them), never CLI options, so
``nvpolicy import`` and later commands (``propose``) share them:

- ``exports``  read NeuVector exports (``kind: List``, group definitions, single CRs, stdin)
- ``clean``    drop the volatile and default fields an export carries
- ``lift``     namespace → placeholders, learned peers → ``peer()`` plus bindings
- ``ports``    lock ``ports: any`` to well-known or observed ports
- ``naming``   stable, meaningful rule names
- ``sidecars`` split sidecar processes out of the application group
- ``merge``    merge imported objects into existing source files without losing hand edits
- ``envfile``  write or merge the source environment's file
- ``report``   what an import did, as data
- ``literal``  the one escaping path: outside text written so it renders as itself; names checked
               before they go into ``service('…')``
"""
