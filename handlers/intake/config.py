"""What the intake engine needs from the settings, and the dialog's control words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sla import Policy

from ..types import Routing

if TYPE_CHECKING:
    from ..reports import ChartMaker


@dataclass(frozen=True)
class IntakeConfig:
    """What the engine needs from the settings (built by bot/ from ``Settings``)."""

    policy: Policy
    attachments_dir: Path
    max_attachment_bytes: int = 10 * 1024 * 1024
    max_attachments: int = 10  # files per report
    allowed_types: frozenset[str] = frozenset()
    routing: Routing = Routing()
    remind_after: timedelta = timedelta(minutes=30)
    expire_after: timedelta = timedelta(hours=24)
    kb_matches: int = 3
    charts: ChartMaker | None = None  # for the engineers' `report` verb on the same channels



BACK = {"back", "geri"}
CANCEL = {"cancel", "iptal"}
EDIT = {"edit", "düzenle", "duzenle"}
HELP = {"help", "yardım", "yardim", "?"}
CONFIRM_WORDS = {"confirm", "onayla", "yes", "evet", "ok", "tamam"}
