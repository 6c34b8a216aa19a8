"""``nvpolicy publish``: commit one rendered environment into a directory of a deploy repo.

- ``git.py``          a thin typed wrapper over the git command line
- ``lock.py``         one publish per deploy repo at a time (``flock``; dies with its holder)
- ``manifest.py``     the ownership manifest: which files in SUBDIR publish may replace or remove
- ``transaction.py``  staging, swap, commit, and the recovery of a killed run (design in its docstring)
- ``message.py``      the commit message and the added/changed/removed/widening counts
- ``run.py``          the checks and the order of the steps
"""
