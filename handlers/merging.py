"""Merging a duplicate into the ticket that carries it, and relating two tickets (issue #19).

``merge N into M`` (README "Ticket life"):

- refused into itself, into a closed or resolved ticket (reopen it first), from a closed one,
  and across customers (one organisation's words never reach another);
- **the earliest report governs**: M keeps its own clock start, so N must not have been
  reported before M; if it was, the engineer is told to merge the other way (``merge M into
  N``) and nothing changes. M's deadlines are therefore never moved by a merge;
- N's conversation (customer replies, follow-ups, public replies, internal notes) is
  **copied** onto M's trail, each event marked ``[#N]`` with ``merged_from`` in its data: N's
  own audit trail stays whole (append-only); N's attachments are **moved** to M;
- N's contact becomes one of M's: every later update to M's customer also goes to N's
  conversation (a ``merged`` :class:`TicketLink` N → M, read by ``handlers.notify``);
- N is closed with resolution "merged into #M", its pauses and pages end (its clocks stop),
  and N's contact is told in their language that #M carries their report from now on.

``link N M`` relates two tickets both ways without changing either's clocks or customers;
it is on both trails and shown in the engineers' ``status N``.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, or_, select

from sla import Policy
from storage import oncall
from storage import tickets as store
from storage.models import (
    Attachment,
    Contact,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketStatus,
)
from storage.models.links import MERGED, RELATED

from . import ticket_actions as actions
from .hooks import ticket_changed_on_commit
from .i18n import register, t

register({
    "merge.to_customer": {
        "en": "Your report #{n} is the same issue as ticket #{m}, so the two were merged: "
              "#{m} carries your report from now on, and its updates reach you here. "
              "#{n} is closed.",
        "tr": "#{n} numaralı bildiriminiz #{m} numaralı kayıtla aynı konu olduğu için ikisi "
              "birleştirildi: bundan sonra bildiriminizi #{m} taşıyor ve güncellemeleri size "
              "buradan ulaşacak. #{n} kapatıldı.",
    },
    "links.related": {"en": "Related: {ids}", "tr": "İlişkili: {ids}"},
    "links.into": {"en": "Merged into #{m}", "tr": "#{m} ile birleştirildi"},
    "links.from": {"en": "Carries the reports of {ids}", "tr": "Taşıdığı bildirimler: {ids}"},
})


class MergeRefused(ValueError):
    """A merge or link that cannot be done: ``key`` and its fields name why."""

    def __init__(self, key: str, **kwargs: object) -> None:
        super().__init__(key)
        self.key = key
        self.kwargs = kwargs


@functools.cache
def _links_statement() -> Any:  # built once: it runs for every status N
    return (select(TicketLink).where(or_(col(TicketLink.ticket_id) == bindparam("ticket_id"),
                                         col(TicketLink.other_id) == bindparam("ticket_id")))
            .order_by(col(TicketLink.id)))


def links_of(session: Session, ticket_id: int) -> list[TicketLink]:
    """Every link of a ticket, either way, oldest first."""
    return list(session.exec(_links_statement(), params={"ticket_id": ticket_id}))


def merge_target(session: Session, ticket_id: int) -> int | None:
    """The ticket ``ticket_id`` was merged into, if it was."""
    return session.exec(select(TicketLink.other_id).where(
        TicketLink.ticket_id == ticket_id, TicketLink.kind == MERGED)).first()


def merged_into(session: Session, ticket_id: int) -> list[int]:
    """The tickets merged into ``ticket_id`` (their contacts are its contacts too)."""
    return list(session.exec(select(TicketLink.ticket_id).where(
        TicketLink.other_id == ticket_id, TicketLink.kind == MERGED)))


def links_line(session: Session, ticket_id: int, lang: str) -> str | None:
    """The engineers' line of ``status N``: related tickets and merges (None: no link)."""
    related, into, carried = [], [], []
    for row in links_of(session, ticket_id):
        other = row.other_id if row.ticket_id == ticket_id else row.ticket_id
        if row.kind == RELATED:
            related.append(f"#{other}")
        elif row.ticket_id == ticket_id:
            into.append(other)
        else:
            carried.append(f"#{other}")
    parts = ([t("links.related", lang, ids=", ".join(related))] if related else []) + [
        t("links.into", lang, m=m) for m in into] + (
        [t("links.from", lang, ids=", ".join(carried))] if carried else [])
    return " · ".join(parts) or None


def _pair(session: Session, a: int, b: int) -> TicketLink | None:
    return session.exec(select(TicketLink).where(or_(
        (TicketLink.ticket_id == a) & (TicketLink.other_id == b),
        (TicketLink.ticket_id == b) & (TicketLink.other_id == a)))).first()


def link(session: Session, a: Ticket, b: Ticket, *, actor: Contact, now: datetime) -> TicketLink:
    """Relate ``a`` and ``b`` (on both trails); refused for the same ticket or a known pair."""
    if a.id == b.id:
        raise MergeRefused("cmd.err.link_self", n=a.id)
    if _pair(session, a.id or 0, b.id or 0) is not None:
        raise MergeRefused("cmd.err.already_linked", n=a.id, m=b.id)
    row = TicketLink(ticket_id=a.id or 0, other_id=b.id or 0, kind=RELATED,
                     created_by=actor.name[:200], created_at=now)
    session.add(row)
    for one, other in ((a, b), (b, a)):
        store.add_event(session, one, "linked", f"related to #{other.id}", actor=actor, at=now,
                        data={"other": other.id})
    return row


def check_merge(n: Ticket, m: Ticket) -> None:
    """Refuse a merge the rules above forbid (nothing is changed)."""
    if n.id == m.id:
        raise MergeRefused("cmd.err.merge_self", n=n.id)
    if n.customer_id != m.customer_id:
        raise MergeRefused("cmd.err.merge_customers", n=n.id, m=m.id)
    if n.status == TicketStatus.CLOSED:
        raise MergeRefused("cmd.err.closed", n=n.id)
    if m.status in (TicketStatus.CLOSED, TicketStatus.RESOLVED):
        raise MergeRefused("cmd.err.merge_finished", m=m.id)
    if n.reported_at < m.reported_at:
        raise MergeRefused("cmd.err.merge_earlier", n=n.id, m=m.id)


def merge(session: Session, policy: Policy, n: Ticket, m: Ticket, *, actor: Contact,
          now: datetime) -> TicketEvent:
    """Merge ``n`` into ``m`` as the module says; the event on ``m``."""
    check_merge(n, m)
    nid, mid = n.id or 0, m.id or 0
    talk = [e for e in store.events(session, nid) if e.kind in store.CONVERSATION_KINDS]
    files = list(session.exec(select(Attachment).where(Attachment.ticket_id == nid)))
    carried = store.add_event(
        session, m, "merged", f"merged from #{nid}: {n.summary}\n{n.description}".strip(),
        actor=actor, at=now,
        data={"from": nid, "events": len(talk), "files": [a.filename for a in files],
              "contact_id": n.contact_id})
    for e in talk:  # copied, not moved: N's trail stays whole
        copy = TicketEvent(ticket_id=mid, at=e.at, actor_id=e.actor_id, actor=e.actor,
                           kind=e.kind, text=f"[#{nid}] {e.text}",
                           data=json.dumps({"merged_from": nid, "event": e.id}))
        session.add(copy)
    for att in files:
        att.ticket_id = mid
        session.add(att)
    row = _pair(session, nid, mid)
    if row is None:
        row = TicketLink(ticket_id=nid, other_id=mid, created_at=now)
    row.ticket_id, row.other_id, row.kind, row.created_by = nid, mid, MERGED, actor.name[:200]
    session.add(row)
    # N stops: its pauses and pages end, it is closed pointing at M.
    actions.end_pauses(session, n, now)
    oncall.end_pages(session, nid, "stopped", now, note=f"merged into #{mid}")
    if n.resolved_at is None:
        n.resolved_at = now
    n.status, n.closed_at = TicketStatus.CLOSED, now
    n.resolution_text = f"merged into #{mid}"
    session.add(n)
    session.flush()
    actions.record(session, policy, n, "merged", f"merged into #{mid}",
                   t("merge.to_customer", n.language, n=nid, m=mid), actor=actor, now=now,
                   data={"into": mid})
    ticket_changed_on_commit(session, mid)
    return carried
