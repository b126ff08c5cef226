"""One ticket as one line for its customer: number, severity, status, the next deadline."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlmodel import Session

from storage import tickets
from storage.models import Ticket

from .i18n import t
from .intake import IntakeConfig
from .vocabulary import clock_name, clock_state_name, local_when, status_name


def ticket_line(session: Session, cfg: IntakeConfig, ticket: Ticket, lang: str, zone: tzinfo,
                now: datetime) -> str:
    """``#12 [S2] open: summary — Response due 2026-12-01 10:00 (Europe/Istanbul) (running)``."""
    line = f"#{ticket.id} [{ticket.severity}] {status_name(ticket.status, lang)}: {ticket.summary}"
    due = [s for s in tickets.clock_states(session, cfg.policy, ticket, now)
           if s.deadline is not None and s.stopped_at is None and s.target.has_clock]
    if due:
        nxt = min(due, key=lambda s: s.deadline)  # type: ignore[arg-type,return-value]
        assert nxt.deadline is not None
        line += " — " + t("due.next", lang, clock=clock_name(nxt.kind, lang),
                          at=local_when(nxt.deadline, zone),
                          state=clock_state_name(nxt.status, lang))
    return line
