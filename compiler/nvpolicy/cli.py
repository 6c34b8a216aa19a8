"""The ``nvpolicy`` command: global options, command registration, and the one place errors are printed.

Each command lives in ``compiler/nvpolicy/commands/<name>.py`` (found by discovery, so adding a command
touches no other file) and registers itself on the app; only the command being run is registered,
and heavy imports stay inside the command functions, so ``nvpolicy render`` starts fast.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from nvpolicy import __version__
from nvpolicy.errors import NvPolicyError

HELP = """\
Compile one environment-neutral NeuVector policy source into validated CRs per environment.

The project directory holds policies/ (the neutral source) and environments/<env>.yaml;
it is the current directory unless -C names another.

Examples:

  nvpolicy render --env prod

  nvpolicy -C ../policy-repo render --env dev --set namespace=feature-6293

  nvpolicy validate rendered/prod
"""

app = typer.Typer(
    name="nvpolicy",
    help=HELP,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nvpolicy {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    directory: Annotated[
        Path | None,
        typer.Option("-C", "--directory", help="Run as if started in DIR (the project dir).", metavar="DIR"),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    project = (directory or Path(".")).expanduser()
    if not project.is_dir():
        raise NvPolicyError(f"-C {project}: no such directory")
    ctx.obj = project.absolute()


def project_dir(ctx: typer.Context) -> Path:
    """The project directory chosen by -C (or the current directory)."""
    root: Any = ctx.find_root().obj
    return root if isinstance(root, Path) else Path(".").absolute()


def command_modules() -> dict[str, str]:
    """Command name -> module in nvpolicy/commands (``import_cmd`` -> ``import``), without importing any."""
    from nvpolicy import commands

    return {info.name.removesuffix("_cmd").replace("_", "-"): info.name
            for info in pkgutil.iter_modules(commands.__path__) if not info.name.startswith("_")}


_registered: set[str] = set()
_GLOBAL_WITH_VALUE = ("-C", "--directory")


def register_commands(argv: list[str] | None = None) -> None:
    """Register the command that argv runs, or every command (for help, completion or an unknown name).

    Each command module imports what it needs only when it runs; registering just the one invoked
    keeps the others' option parsing and imports off every start.
    """
    modules = command_modules()
    invoked = None if argv is None or os.environ.get("_NVPOLICY_COMPLETE") else _invoked(argv)
    names = [modules[invoked]] if invoked in modules else list(modules.values())
    loaded = [importlib.import_module(f"nvpolicy.commands.{name}") for name in names if name not in _registered]
    for module in sorted(loaded, key=lambda m: (getattr(m, "ORDER", 100), m.__name__)):
        module.register(app)
        _registered.add(module.__name__.rsplit(".", 1)[-1])


def _invoked(argv: list[str]) -> str | None:
    """The command word of argv after the global options, or None (no command: help is shown)."""
    words = iter(argv)
    for word in words:
        if word in _GLOBAL_WITH_VALUE:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def main(argv: list[str] | None = None) -> None:
    """Console entry point: no traceback ever reaches a user."""
    try:
        register_commands(sys.argv[1:] if argv is None else argv)
        app(args=argv, prog_name="nvpolicy")
    except NvPolicyError as error:
        typer.echo(error.format_message(), err=True)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except OSError as error:
        # A path the system refuses (a name past 255 bytes, no permission, an I/O error) is bad input or
        # a bad environment, not a bug: name the file, say why, exit 2. Modules report their own paths
        # where they can; this is the net under the many `Path.is_file()`-style checks on user paths.
        typer.echo(_os_error_message(error), err=True)
        sys.exit(2)
    except Exception as error:  # a bug of ours: say so plainly, keep the trace for those who ask
        if os.environ.get("NVPOLICY_DEBUG"):
            raise
        typer.echo(
            f"internal error: {type(error).__name__}: {error}\n"
            "  hint: this is a bug in nvpolicy; rerun with NVPOLICY_DEBUG=1 for the traceback and report it",
            err=True,
        )
        sys.exit(3)


def _os_error_message(error: OSError) -> str:
    name = str(error.filename) if error.filename is not None else ""
    if len(name) > 120:
        name = f"{name[:100]}… ({len(name):,} characters)"
    prefix = f"{name}: " if name else ""
    return f"{prefix}error: {error.strerror or error}"


if __name__ == "__main__":  # pragma: no cover
    main()
