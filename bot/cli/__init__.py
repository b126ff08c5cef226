"""The ``destek`` command line: one module per command group (:data:`main.COMMAND_MODULES`),
the shared options and helpers in :mod:`.common`."""

from __future__ import annotations

from . import calculator, directory, tickets  # noqa: F401 - the core commands register on app
from .common import app
from .main import load_commands, main

__all__ = ["app", "load_commands", "main"]
