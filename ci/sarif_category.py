#!/usr/bin/env python3
"""Give each environment's `nvpolicy lint --format sarif` file its own code-scanning category.

    python3 ci/sarif_category.py reports/sarif/*.sarif

GitHub code scanning rejects an upload in which two runs share a tool and a category, and every
environment's run is the same tool, nvpolicy. Each file's runs get ``automationDetails.id``
``nvpolicy/<file name without .sarif>/`` (the environment), which upload-sarif keeps, so each
environment's alerts are tracked, and closed, on their own. A file that is not SARIF (lint failed
with exit 2 and wrote nothing) is removed so that it cannot void the upload of the others; the
lint step's exit status still fails the job. Standard library only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def stamp(path: Path) -> bool:
    """Set the category of the runs in path; False (and the file removed) when it holds no SARIF."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        runs = document["runs"]
        if not isinstance(runs, list):
            raise TypeError("runs is not a list")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"{path}: not a SARIF file ({exc}); left out of the upload", file=sys.stderr)
        path.unlink(missing_ok=True)
        return False
    for run in runs:
        run["automationDetails"] = {"id": f"nvpolicy/{path.name.removesuffix('.sarif')}/"}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return True


def main(files: list[str]) -> int:
    for name in files:
        stamp(Path(name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
