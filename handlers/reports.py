"""The monthly SLA report as the bot and the CLI ask for it (arithmetic: sla.attainment).

``report_reply`` answers the engineers' verb ``report [CUSTOMER] [MONTH]`` with a summary and a
chart image; ``monthly_report`` builds the report object the renderers turn into md/csv/pdf/png.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session

from sla import Policy
from sla.attainment import Month, SLAReport, build_report
from storage.directory import RecordError, customer_calendar, get_customer
from storage.reports import month_ticket_facts, month_usage
from storage.satisfaction import month_survey_facts

from .i18n import register, t
from .types import Reply
from .vocabulary import clock_name, local_when

register({
    "report.summary": {
        "en": "SLA report {month} ({scope}), as of {as_of}: {tickets} tickets.\n{lines}",
        "tr": "SLA raporu {month} ({scope}), {as_of} itibarıyla: {tickets} kayıt.\n{lines}",
    },
    "report.line": {
        "en": "{kind}: {att} met ({met} met, {breached} breached, {pending} pending)",
        "tr": "{kind}: {att} karşılandı ({met} karşılandı, {breached} aşıldı, {pending} "
              "devam ediyor)",
    },
    "report.bad_args": {
        "en": "I cannot read that: give at most one customer code and one month (YYYY-MM).",
        "tr": "Bunu anlayamadım: en fazla bir müşteri kodu ve bir ay (YYYY-AA) yazın.",
    },
    "report.no_customer": {"en": "There is no customer \"{code}\".",
                           "tr": "\"{code}\" kodlu bir müşteri yok."},
    "report.all": {"en": "all customers", "tr": "tüm müşteriler"},
    "report.csat": {
        "en": "Satisfaction: CSAT {csat} ({answers} answers, average {average:.2f}/5)",
        "tr": "Memnuniyet: CSAT {csat} ({answers} yanıt, ortalama {average:.2f}/5)",
    },
    "report.usage": {
        "en": "Usage: report [CUSTOMER] [YYYY-MM]",
        "tr": "Kullanım: report [MÜŞTERİ] [YYYY-AA]",
    },
})

_MONTH = re.compile(r"^\d{4}-\d{1,2}$")


def monthly_report(
    session: Session,
    policy: Policy,
    month: Month,
    customer_code: str | None,
    as_of: datetime,
) -> SLAReport:
    """The report of ``month`` for one customer (code) or all customers, as of ``as_of``."""
    facts = month_ticket_facts(session, month, customer_code)
    usage = month_usage(session, month, customer_code)
    surveys = month_survey_facts(session, month, customer_code)
    return build_report(policy, month, customer_code or "all", facts, as_of, usage, surveys)


def default_month(session: Session, customer_code: str | None, now: datetime) -> Month:
    """The current month in the customer's local time (UTC for all customers)."""
    tz = "UTC"
    if customer_code:
        tz = customer_calendar(get_customer(session, customer_code)).tz
    return Month.containing(now, tz)


def parse_report_args(args: Sequence[str]) -> tuple[str | None, Month | None]:
    """``[CUSTOMER] [YYYY-MM]`` in any order; ValueError on anything else."""
    customer: str | None = None
    month: Month | None = None
    for arg in args:
        if _MONTH.match(arg):
            if month is not None:
                raise ValueError("give one month")
            month = Month.parse(arg)
        elif customer is None and arg.lower() != "all":
            customer = arg
        elif arg.lower() != "all":
            raise ValueError(f"unexpected {arg!r}")
    return customer, month


def summary_lines(report: SLAReport, lang: str) -> list[str]:
    lines = []
    for row in report.totals:
        att = "—" if row.attainment is None else f"{row.attainment:.1f}%"
        lines.append(t("report.line", lang, kind=clock_name(row.kind, lang),
                       att=att, met=row.met, breached=row.breached, pending=row.pending))
    overall = next((r for r in report.csat if r.group == "all"), None)
    if overall is not None and overall.csat is not None:  # issue #19: only with answers
        lines.append(t("report.csat", lang, csat=f"{overall.csat:.1f}%",
                       answers=overall.answers, average=overall.average))
    return lines


@dataclass(frozen=True)
class ReportReply:
    reply: Reply
    path: Path | None  # the chart image to post beside the reply
    report: SLAReport | None = None


Renderer = Callable[[SLAReport, Path], Path]


@dataclass(frozen=True)
class ChartMaker:
    """How the ``report`` verb draws its chart: given by bot/ (which owns plotting and files)."""

    out_dir: Path
    render: Renderer


def report_reply(
    session: Session,
    policy: Policy,
    args: Sequence[str],
    now: datetime,
    lang: str = "en",
    charts: ChartMaker | None = None,
) -> ReportReply:
    """Answer ``report [CUSTOMER] [MONTH]``: a summary Reply and, when ``charts`` is given,
    the path of its chart PNG (also in the reply's ``meta["file"]``)."""
    usage = t("report.usage", lang)
    try:
        customer, month = parse_report_args(args)
    except ValueError:
        return ReportReply(Reply(f"{t('report.bad_args', lang)}\n{usage}"), None)
    try:
        if customer:
            customer = get_customer(session, customer).code
    except RecordError:
        return ReportReply(Reply(f"{t('report.no_customer', lang, code=customer)}\n{usage}"), None)
    month = month or default_month(session, customer, now)
    report = monthly_report(session, policy, month, customer, now)
    path = None
    if charts is not None:
        charts.out_dir.mkdir(parents=True, exist_ok=True)
        path = charts.render(report, charts.out_dir / f"sla-{month}-{customer or 'all'}.png")
    text = t("report.summary", lang, month=str(month),
             scope=customer or t("report.all", lang),
             as_of=local_when(now, UTC), tickets=len(report.tickets),
             lines="\n".join(summary_lines(report, lang)))
    return ReportReply(Reply(text, meta={"file": str(path)} if path else {}), path, report)


__all__ = [
    "ChartMaker",
    "ReportReply",
    "default_month",
    "monthly_report",
    "parse_report_args",
    "report_reply",
    "summary_lines",
]
