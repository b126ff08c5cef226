"""SLA attainment of a month: which tickets belong to it, and per target met / breached /
pending, attainment % and the business-time distribution. Pure: facts in, numbers out.

Definitions (the monthly report states them too):
- A ticket belongs to month M when its ``reported_at`` (the instant its clocks start, P15),
  read in the timezone of the ticket's business calendar (the customer's local time), falls
  in [first day of M 00:00, first day of M+1 00:00).
- Each clock of each ticket is evaluated at ``as_of`` (the report's instant) with
  :func:`sla.evaluate_clocks`: *met* = stopped within its target; *breached* = stopped after
  its deadline, or still running past it; *pending* = still running (or paused) before its
  deadline; clocks without a target (``none``, ``next-release``) and service requests are not
  counted.
- Attainment % = met / (met + breached); pending clocks are not yet decided and stay out.
- The distribution is taken over *stopped* clocks only: the business time from the start to
  the stop, waiting time (P17) excluded. Median: the middle value (mean of the two middle
  values for an even count); p90: nearest rank, the value at rank ceil(0.9 n) of the sorted
  values.
- Waiting time is listed per pause: business seconds of the ticket's calendar inside the pause,
  up to ``as_of``; a ticket's total merges overlapping pauses.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from .clock import _epoch, business_seconds_between, merge_pauses
from .policy import ClockKind, Policy
from .satisfaction import CsatRow, SurveyFact, csat_rows
from .ticket_clocks import ClockStatus, TicketClocks, evaluate_clocks

__all__ = [
    "ClockFact",
    "ExceptionFact",
    "Month",
    "PauseFact",
    "SLAReport",
    "TargetRow",
    "TicketFact",
    "UsageFact",
    "UsageRow",
    "WaitRow",
    "build_report",
    "format_business",
    "in_month",
    "local",
    "percentile",
]

MET, BREACHED, PENDING = "met", "breached", "pending"


@dataclass(frozen=True, slots=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """``2026-11`` → Month(2026, 11); ValueError with a readable message otherwise."""
        try:
            y, m = text.strip().split("-")
            month = cls(int(y), int(m))
            date(month.year, month.month, 1)
        except ValueError:
            raise ValueError(f"month {text!r} is not YYYY-MM (e.g. 2026-11)") from None
        return month

    @classmethod
    def containing(cls, when: datetime, tz: str) -> Month:
        local = when.astimezone(ZoneInfo(tz))
        return cls(local.year, local.month)

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def bounds(self, tz: str) -> tuple[datetime, datetime]:
        """[start, end) of the month in local time of ``tz`` (aware datetimes)."""
        zone = ZoneInfo(tz)
        nxt = self.next()
        return (
            datetime.combine(date(self.year, self.month, 1), time(0), zone),
            datetime.combine(date(nxt.year, nxt.month, 1), time(0), zone),
        )

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class PauseFact:
    started_at: datetime
    ended_at: datetime | None
    reason: str
    kind: str


@dataclass(frozen=True, slots=True)
class ExceptionFact:
    """A written exception to the service levels (P18): a ticket event of kind exception."""

    ticket_id: int
    at: datetime
    actor: str
    text: str


@dataclass(frozen=True, slots=True)
class TicketFact:
    """What the report needs of one ticket; ``clocks`` carries start, pauses and stops."""

    id: int
    customer: str
    summary: str
    severity: str
    family: str | None
    product: str | None
    kind: str
    status: str
    has_clock: bool
    clocks: TicketClocks
    pauses: tuple[PauseFact, ...] = ()
    exceptions: tuple[ExceptionFact, ...] = ()

    @property
    def reported_at(self) -> datetime:
        return self.clocks.start

    @property
    def tz(self) -> str:
        return self.clocks.calendar.tz


@dataclass(frozen=True, slots=True)
class UsageFact:
    """One OpenAI call on behalf of a customer (P26)."""

    customer: str
    at: datetime
    model: str
    prompt_tokens: int
    completion_tokens: int
    outcome: str


@dataclass(frozen=True, slots=True)
class ClockFact:
    ticket_id: int
    customer: str
    severity: str
    family: str | None
    kind: ClockKind
    target: str
    outcome: str  # met | breached | pending
    deadline: datetime | None
    stopped_at: datetime | None
    elapsed_seconds: int


@dataclass(frozen=True, slots=True)
class TargetRow:
    """Met / breached / pending of one clock kind for one severity (``ALL`` for the total)."""

    severity: str
    kind: ClockKind
    met: int
    breached: int
    pending: int
    median_seconds: float | None
    p90_seconds: float | None

    @property
    def decided(self) -> int:
        return self.met + self.breached

    @property
    def attainment(self) -> float | None:
        """Met share of the decided clocks in percent; None when nothing is decided."""
        return None if not self.decided else 100.0 * self.met / self.decided


@dataclass(frozen=True, slots=True)
class WaitRow:
    ticket_id: int
    customer: str
    started_at: datetime
    ended_at: datetime | None
    reason: str
    kind: str
    business_seconds: int
    wall_seconds: int


@dataclass(frozen=True, slots=True)
class UsageRow:
    customer: str
    model: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    outcomes: dict[str, int]


@dataclass(frozen=True)
class SLAReport:
    month: Month
    scope: str  # a customer code, or "all"
    as_of: datetime
    tickets: list[TicketFact]
    clocks: list[ClockFact]
    by_severity: dict[str, int]
    by_family: dict[str, int]
    by_severity_family: dict[tuple[str, str], int]
    service_requests: int
    targets: list[TargetRow]  # per severity, then the ALL rows
    waiting: list[WaitRow]
    waiting_by_ticket: dict[int, int]
    exceptions: list[ExceptionFact]
    usage: list[UsageRow] = field(default_factory=list)
    # Satisfaction (issue #19): per customer, plan, engineer, then "all" (sla.satisfaction).
    csat: list[CsatRow] = field(default_factory=list)

    @property
    def totals(self) -> list[TargetRow]:
        return [r for r in self.targets if r.severity == "ALL"]

    @property
    def breaches(self) -> list[ClockFact]:
        """Breached clocks by the instant they breached (their deadline)."""
        out = [c for c in self.clocks if c.outcome == BREACHED]
        return sorted(out, key=lambda c: (c.deadline or c.stopped_at or datetime.max, c.ticket_id))

    def attainment(self, severity: str = "ALL", kind: ClockKind | None = None) -> float | None:
        """Attainment % of one severity over every (or one) clock kind."""
        rows = [r for r in self.targets if r.severity == severity and (kind is None
                                                                         or r.kind == kind)]
        met = sum(r.met for r in rows)
        decided = sum(r.decided for r in rows)
        return None if not decided else 100.0 * met / decided


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in (0, 1]); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def in_month(fact: TicketFact, month: Month) -> bool:
    start, end = month.bounds(fact.tz)
    return start <= fact.reported_at < end


def _clock_facts(policy: Policy, fact: TicketFact, as_of: datetime) -> list[ClockFact]:
    if not fact.has_clock:
        return []
    out = []
    for s in evaluate_clocks(policy, fact.clocks, as_of):
        if s.status is ClockStatus.NO_TARGET or s.target_seconds is None:
            continue  # no target (none / next-release): nothing to attain
        if s.status is ClockStatus.MET:
            outcome = MET
        elif s.status is ClockStatus.BREACHED:
            outcome = BREACHED
        else:
            outcome = PENDING
        out.append(ClockFact(
            fact.id, fact.customer, fact.severity, fact.family, s.kind, s.target.label(),
            outcome, s.deadline, s.stopped_at, int(s.elapsed.total_seconds()),
        ))
    return out


def _row(severity: str, kind: ClockKind, facts: Iterable[ClockFact]) -> TargetRow:
    facts = list(facts)
    counts = Counter(f.outcome for f in facts)
    done = [float(f.elapsed_seconds) for f in facts if f.stopped_at is not None]
    return TargetRow(
        severity, kind, counts[MET], counts[BREACHED], counts[PENDING],
        statistics.median(done) if done else None, percentile(done, 0.9),
    )


def _waiting(fact: TicketFact, as_of: datetime) -> tuple[list[WaitRow], int]:
    tl = fact.clocks.calendar.timeline()
    start, until = _epoch(fact.reported_at), _epoch(as_of)
    rows = []
    for p in fact.pauses:
        a = _epoch(p.started_at)
        b = until if p.ended_at is None else min(_epoch(p.ended_at), until)
        lo = max(a, start)
        business = int(tl.between(lo, b)) if b > lo else 0
        rows.append(WaitRow(fact.id, fact.customer, p.started_at, p.ended_at, p.reason, p.kind,
                            business, int(max(0.0, b - a))))
    merged = merge_pauses((p.started_at, p.ended_at) for p in fact.pauses)
    total = tl.between(start, until) - business_seconds_between(tl, start, until, merged)
    return rows, int(round(total))


def _usage(usage: Iterable[UsageFact]) -> list[UsageRow]:
    groups: dict[tuple[str, str], list[UsageFact]] = {}
    for u in usage:
        groups.setdefault((u.customer, u.model), []).append(u)
    return [
        UsageRow(c, m, len(us), sum(u.prompt_tokens for u in us),
                 sum(u.completion_tokens for u in us), dict(Counter(u.outcome for u in us)))
        for (c, m), us in sorted(groups.items())
    ]


def build_report(
    policy: Policy,
    month: Month,
    scope: str,
    tickets: Iterable[TicketFact],
    as_of: datetime,
    usage: Iterable[UsageFact] = (),
    surveys: Iterable[SurveyFact] = (),
) -> SLAReport:
    """The monthly SLA report of ``tickets`` (those outside ``month`` are left out) at
    ``as_of``; ``usage`` is filtered to the month in each customer's ticket timezone by the
    caller."""
    members = sorted((f for f in tickets if in_month(f, month)), key=lambda f: f.id)
    clocks = [c for f in members for c in _clock_facts(policy, f, as_of)]
    severities = sorted({f.severity for f in members} | set(policy.severities))
    targets: list[TargetRow] = []
    for sev in severities:
        for kind in ClockKind:
            facts = [c for c in clocks if c.severity == sev and c.kind == kind]
            if facts:
                targets.append(_row(sev, kind, facts))
    for kind in ClockKind:
        targets.append(_row("ALL", kind, [c for c in clocks if c.kind == kind]))
    waiting: list[WaitRow] = []
    waiting_by_ticket: dict[int, int] = {}
    for f in members:
        if f.pauses:
            rows, total = _waiting(f, as_of)
            waiting += rows
            waiting_by_ticket[f.id] = total
    family = [f.family or "unknown" for f in members]
    return SLAReport(
        month=month,
        scope=scope,
        as_of=as_of,
        tickets=members,
        clocks=clocks,
        by_severity=dict(sorted(Counter(f.severity for f in members).items())),
        by_family=dict(sorted(Counter(family).items())),
        by_severity_family=dict(sorted(Counter(
            (f.severity, fam) for f, fam in zip(members, family, strict=True)).items())),
        service_requests=sum(1 for f in members if not f.has_clock),
        targets=targets,
        waiting=waiting,
        waiting_by_ticket=waiting_by_ticket,
        exceptions=sorted((e for f in members for e in f.exceptions),
                          key=lambda e: (e.at, e.ticket_id)),
        usage=_usage(usage),
        csat=csat_rows(surveys),
    )


def format_business(seconds: float | None) -> str:
    """``5h 30m`` style for report tables (business time; never days, whose length varies)."""
    if seconds is None:
        return "—"
    total = int(round(seconds))
    hours, rem = divmod(total, 3600)
    minutes, secs = divmod(rem, 60)
    text = f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"
    return text + (f" {secs:02d}s" if secs else "")


def local(when: datetime | None, tz: str) -> str:
    return "—" if when is None else f"{when.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M}"

