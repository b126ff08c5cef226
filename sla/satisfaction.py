"""Customer satisfaction (CSAT) from the closed tickets' surveys (issue #19 item 4). Pure.

Definitions (the monthly report states them too):
- One answer per closed ticket: a score 1 (not at all satisfied) to 5 (very satisfied).
- An answer belongs to the month in which it was given (its ``at``).
- CSAT % = answers scoring 4 or 5 / all answers (the usual "satisfied" share); the average
  score is shown beside it. A ticket nobody was assigned to counts for engineer "unassigned".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

SATISFIED = 4  # the lowest score counted as satisfied
GROUPS = ("customer", "plan", "engineer")
UNASSIGNED = "unassigned"


@dataclass(frozen=True, slots=True)
class SurveyFact:
    """One survey answer with what it is grouped by."""

    ticket_id: int
    customer: str
    plan: str
    engineer: str
    score: int
    at: datetime
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class CsatRow:
    """CSAT of one group value (``group`` ``customer``/``plan``/``engineer``, or ``all``)."""

    group: str
    key: str
    answers: int
    satisfied: int
    average: float

    @property
    def csat(self) -> float | None:
        """Satisfied answers in % (None without answers)."""
        return None if not self.answers else 100.0 * self.satisfied / self.answers


def _row(group: str, key: str, scores: list[int]) -> CsatRow:
    return CsatRow(group, key, len(scores), sum(1 for s in scores if s >= SATISFIED),
                   sum(scores) / len(scores))


def csat_rows(facts: Iterable[SurveyFact]) -> list[CsatRow]:
    """Per customer, per plan, per engineer (each sorted by key), then the ``all`` row; no
    rows without answers."""
    facts = list(facts)
    out: list[CsatRow] = []
    for group in GROUPS:
        by: dict[str, list[int]] = {}
        for f in facts:
            by.setdefault(getattr(f, group), []).append(f.score)
        out += [_row(group, key, scores) for key, scores in sorted(by.items())]
    if facts:
        out.append(_row("all", "all", [f.score for f in facts]))
    return out
