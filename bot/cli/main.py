"""The ``destek`` entry point: every command module registered, errors as one line."""

from __future__ import annotations

import sys

import typer

from sla import CalendarError, PolicyError
from storage.directory import RecordError

from .common import app

# Modules that add their commands to ``app`` when imported (one line per area).
COMMAND_MODULES = [
    "bot.cli.directory",
    "bot.cli.tickets",
    "bot.cli.calculator",
    "bot.demo",
    "bot.cli.kb",
    "bot.cli.chat",
    "bot.cli.run",
    "bot.cli.backup",
    "bot.cli.report",
    "bot.cli.dashboard",
    "bot.cli.sla",
    "bot.cli.oncall",
    "bot.cli.away",
]


def load_commands() -> typer.Typer:
    """Import every command module and return the complete app."""
    import importlib

    for module in COMMAND_MODULES:
        importlib.import_module(module)
    return app


def main() -> None:
    """Console-script entry point."""
    from sqlalchemy.exc import OperationalError

    load_commands()
    try:
        code = app(standalone_mode=False)
    except _CLICK_ERROR as exc:  # a bad argument or option: one line, not a framed box
        typer.echo(f"error: {_usage_error(exc)}", err=True)
        sys.exit(2)
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        sys.exit(1)
    except (RecordError, CalendarError, PolicyError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:  # e.g. --out in a folder that does not exist
        where = f": {exc.filename}" if exc.filename else ""
        typer.echo(f"error: {exc.strerror or exc}{where}", err=True)
        sys.exit(2)
    except OperationalError as exc:
        first = str(exc.orig or exc).splitlines()[0]
        hint = " (run `destek db upgrade` first)" if "no such table" in first else ""
        typer.echo(f"error: database: {first}{hint}", err=True)
        sys.exit(2)
    # Without standalone mode, Click returns the code of typer.Exit (fail(), --help).
    sys.exit(code if isinstance(code, int) else 0)


# Typer vendors Click in newer releases: its own ClickException is the base of usage errors.
_CLICK_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def _usage_error(exc: Exception) -> str:
    """Click's message with the command it is about ("ticket show: 'abc' is not ...")."""
    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else str(exc)
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path.split(" ", 1)[1] if ctx is not None and " " in ctx.command_path \
        else ""
    return f"{path}: {message}" if path else message
