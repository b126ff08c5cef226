"""Related and duplicate reports (issue #19): when a report is filed, the open tickets of the
same customer and product that look like it, shown to the engineers on the card
("possibly the same as #12").

Two tickets look alike when their summaries share most of their words, or read alike word by
word, or their error texts are the same once numbers and ids are masked (the same error
signature). Words are folded without case or accents (Turkish-aware, ``storage.kb.fold``);
the word-by-word reading is :class:`difflib.SequenceMatcher` over the folded words.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from sqlmodel import Session, col, select

from storage.kb.normalise import tokens
from storage.models import Ticket, TicketStatus

SHOWN = 3  # at most this many on a card
ALIKE = 0.5  # summary score from which two tickets look alike (with two words shared)
SHORT_WORD = 2  # words this short ("is", "on") are not counted
# In an error text, counts, line numbers and seconds (1-3 digits) and ids (8+ hex digits)
# vary between occurrences of one error; error codes (ORA-00942, 0x80070005) do not.
_VARYING = re.compile(r"^(\d{1,3}|[0-9a-f]*\d[0-9a-f]*)$")
NO_ERROR = frozenset({"none", "yok", "no", "hayir", "-"})
OPEN_STATES = (TicketStatus.OPEN.value, TicketStatus.PENDING.value)


@dataclass(frozen=True)
class Candidate:
    """What the comparison reads of an open ticket (not the whole row: a customer may have
    many open tickets of one product, and this runs for every new report)."""

    id: int | None
    summary: str
    error_text: str | None


@dataclass(frozen=True)
class Alike:
    ticket: Candidate | Ticket
    why: str  # "summary" | "error"
    score: float


@functools.lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    """The folded words of a summary that count."""
    # Cached: each new report is read against every open ticket of its product, whose
    # summaries (at most 300 characters) repeat from one report to the next. Error texts
    # are not: a pasted log has no length limit.
    return tuple(w for w in tokens(text) if len(w) > SHORT_WORD)


def summary_score(a: str, b: str) -> float:
    """How alike two summaries are, 0..1: the higher of shared words and word-by-word ratio."""
    return Reading.of(a, None).score(Reading.of(b, None))[0]


def error_signature(text: str | None) -> str:
    """An error text folded, its varying numbers masked (``""``: none given):
    ``"ORA-00942 at line 12"`` and ``"ORA-00911 at line 7"`` differ, ``"timeout after 30 s"``
    and ``"timeout after 45 s"`` do not."""
    words_ = tokens(text or "")
    if len(words_) < 2 or " ".join(words_) in NO_ERROR:
        return ""
    return " ".join("#" if _VARYING.match(w) and (len(w) <= 3 or len(w) >= 8) else w
                    for w in words_)


@dataclass(frozen=True)
class Reading:
    """What the comparison reads of one ticket, read once per report, not per candidate."""

    words: tuple[str, ...]
    unique: frozenset[str]
    signature: str

    @classmethod
    def of(cls, summary: str, error_text: str | None) -> Reading:
        found = words(summary or "")
        return cls(found, frozenset(found), error_signature(error_text))

    def score(self, other: Reading) -> tuple[float, int]:
        """(summary score, words shared) against ``other``."""
        if not self.words or not other.words:
            return 0.0, 0
        shared = len(self.unique & other.unique)
        score = shared / len(self.unique | other.unique)
        if score < 1.0:
            # The word-by-word ratio only where it can raise the score (difflib's own
            # upper bounds first: the ratio is the costly part).
            matcher = SequenceMatcher(None, self.words, other.words, autojunk=False)
            if matcher.real_quick_ratio() > score and matcher.quick_ratio() > score:
                score = max(score, matcher.ratio())
        return score, shared


def alike(mine: Reading, other: Ticket | Candidate) -> Alike | None:
    """Whether ``other`` looks like the report read as ``mine`` (same customer and product are
    the caller's)."""
    theirs = Reading.of(other.summary, other.error_text if mine.signature else None)
    score, shared = mine.score(theirs)
    if mine.signature and mine.signature == theirs.signature:
        return Alike(other, "error", max(score, 1.0))
    if shared >= 2 and score >= ALIKE:
        return Alike(other, "summary", score)
    return None


def similar_open(session: Session, ticket: Ticket, limit: int = SHOWN) -> list[Alike]:
    """The open tickets of ``ticket``'s customer and product that look like it, most alike
    first (then the oldest): at most ``limit``. Never another customer's."""
    query = select(Ticket.id, Ticket.summary, Ticket.error_text).where(  # type: ignore[call-overload]
        Ticket.customer_id == ticket.customer_id, col(Ticket.status).in_(OPEN_STATES),
        col(Ticket.id) != ticket.id)
    query = query.where(col(Ticket.product_id).is_(None) if ticket.product_id is None
                        else Ticket.product_id == ticket.product_id)
    mine = Reading.of(ticket.summary, ticket.error_text)
    found = [a for row in session.exec(query.order_by(col(Ticket.id)))
             if (a := alike(mine, Candidate(*row))) is not None]
    found.sort(key=lambda a: (-a.score, a.ticket.id or 0))
    return found[:limit]
