"""The ``nvpolicy`` console script and ``python -m nvpolicy``.

The CLI is imported with the cyclic garbage collector paused, and what the import made is then
frozen: typer and nvpolicy's modules are tens of thousands of objects that live until exit, and
the collector would otherwise scan them again and again while they are made and while the command
runs (~10% of ``nvpolicy render --env prod`` on the example; bench/run.py's ``cold_over_imports``).
Freezing only exempts those objects from the cyclic collector; it stays on for the command's own work.
"""

from __future__ import annotations

import gc


def main() -> None:
    gc.disable()
    try:
        from nvpolicy.cli import main as run
    finally:
        gc.freeze()
        gc.enable()
    run()


if __name__ == "__main__":
    main()
