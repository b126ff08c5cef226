"""The intake: the guided dialog of :mod:`handlers.dialog`, driven the same on every channel.

The caller commits once per inbound message, so each step is durable and a restart continues
at the same step. :mod:`handlers.dispatch` decides when a message is a dialog step;
this package only runs the dialog:

- :func:`start`, :func:`take`, :func:`resume`, :func:`cancel`: a dialog's life, one message at a
  time.
- :func:`validate_answers` / :func:`open_from_answers`: a whole report at once (Slack's form).
- :func:`sweep_dialogs`: remind abandoned dialogs once, expire them later (periodic job).
"""

from __future__ import annotations

from . import messages as _messages  # noqa: F401 - registers the intake's catalogue
from .attachments import (
    Attached,
    adopt_files,
    attach_to_ticket,
    files_added,
    size_text,
    store_attachment,
)
from .config import IntakeConfig
from .engine import cancel, resume, start, take
from .opening import REPORT_COLUMNS, Opened, open_from_answers, validate_answers
from .state import discard, get_dialog
from .sweep import sweep_dialogs

__all__ = [
    "REPORT_COLUMNS",
    "Attached",
    "adopt_files",
    "attach_to_ticket",
    "files_added",
    "IntakeConfig",
    "Opened",
    "cancel",
    "discard",
    "get_dialog",
    "open_from_answers",
    "resume",
    "size_text",
    "start",
    "store_attachment",
    "sweep_dialogs",
    "take",
    "validate_answers",
]
