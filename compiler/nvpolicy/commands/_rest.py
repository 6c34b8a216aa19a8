"""Options and set-up shared by the commands that talk to a NeuVector controller (pull, events, push)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from nvpolicy.nvapi import Controller

# NVPOLICY_CONTROLLER stands in for an absent --controller (the option wins when both are given).
CONTROLLER_ENV = "NVPOLICY_CONTROLLER"
ControllerUrl = Annotated[str, typer.Option("--controller", help="The controller's REST URL, e.g. "
                                            "https://neuvector-svc-controller:10443 (default: "
                                            f"${CONTROLLER_ENV}).", metavar="URL", envvar=CONTROLLER_ENV,
                                            show_envvar=False)]
CaFile = Annotated[Path | None, typer.Option("--ca-file", help="PEM file with the CA that signed the controller's "
                                             "certificate (default: the system's CAs).", metavar="FILE")]
Insecure = Annotated[bool, typer.Option("--insecure", help="Skip TLS certificate verification (and allow http://).")]
Timeout = Annotated[float, typer.Option("--timeout", help="Seconds one REST call may take in all: connect, "
                                        "send and the whole answer (1 to 3600).", min=1.0, max=3600.0)]

CREDENTIALS_HELP = """\
Credentials come from the environment: NVPOLICY_APIKEY (sent as X-Auth-Apikey), or
NVPOLICY_USERNAME and NVPOLICY_PASSWORD (POST /v1/auth). On a terminal, missing ones are
prompted for. They are never printed or written.
"""


def connect(url: str, ca_file: Path | None, insecure: bool, timeout: float) -> Controller:
    from nvpolicy.nvapi import Controller, Credentials, parse_controller_url

    parse_controller_url(url)  # a bad URL is reported before any credential is asked for

    def prompt(label: str, hide: bool) -> str:
        return str(typer.prompt(label, hide_input=hide, err=True))

    interactive = sys.stdin.isatty() and sys.stderr.isatty()
    credentials = Credentials.from_env(os.environ, prompt if interactive else None)
    if insecure:
        typer.echo("warning: --insecure: the controller's TLS certificate is not verified", err=True)
    return Controller(url, credentials, ca_file=str(ca_file) if ca_file else None, insecure=insecure,
                      timeout=timeout)


def write_text(target: Path | None, text: str) -> None:
    """To stdout, or to FILE through an exclusive temporary file renamed into place (never a half-written
    file, never a write through a link: a FILE that is a symlink is refused)."""
    if target is None:
        sys.stdout.write(text)
        return
    from nvpolicy._fs import write_atomic

    write_atomic(target, text)
