"""Queries of the satisfaction survey's answers: the facts behind CSAT (issue #19 item 4).

:func:`csat_figures` is what the dashboard calls (``bot.web``): CSAT per customer, plan and
engineer over any period; the monthly report reads :func:`month_survey_facts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from sla.attainment import Month
from sla.satisfaction import UNASSIGNED, CsatRow, SurveyFact, csat_rows

from .directory import customer_calendar, get_customer
from .models import Contact, Customer, SurveyAnswer, Ticket


def survey_facts(session: Session, since: datetime, until: datetime,
                 customer_code: str | None = None) -> list[SurveyFact]:
    """The answers given in ``[since, until)`` (one customer, or all), oldest first."""
    query = (select(SurveyAnswer, Ticket)
             .join(Ticket, col(Ticket.id) == col(SurveyAnswer.ticket_id))
             .where(col(SurveyAnswer.score).is_not(None), col(SurveyAnswer.at) >= since,
                    col(SurveyAnswer.at) < until)
             .order_by(col(SurveyAnswer.at), col(SurveyAnswer.id)))
    if customer_code:
        query = query.where(Ticket.customer_id == get_customer(session, customer_code).id)
    rows = list(session.exec(query))
    codes = {c.id: c.code for c in session.exec(select(Customer))}
    engineer_ids = {t.assignee_id for _, t in rows if t.assignee_id}
    names = {c.id: c.name for c in session.exec(
        select(Contact).where(col(Contact.id).in_(engineer_ids)))} if engineer_ids else {}
    return [SurveyFact(ticket_id=t.id or 0, customer=codes.get(t.customer_id, "?"),
                       plan=t.plan, engineer=names.get(t.assignee_id or -1, UNASSIGNED),
                       score=a.score or 0, at=a.at or since, comment=a.comment)
            for a, t in rows]


def month_survey_facts(session: Session, month: Month,
                       customer_code: str | None = None) -> list[SurveyFact]:
    """The answers of ``month``: in the customer's local month, in UTC for all customers."""
    tz = customer_calendar(get_customer(session, customer_code)).tz if customer_code else "UTC"
    start, end = month.bounds(tz)
    return survey_facts(session, start, end, customer_code)


@dataclass(frozen=True)
class CsatFigures:
    """CSAT of a period, per customer, plan and engineer, and overall (None: no answer)."""

    since: datetime
    until: datetime
    by_customer: list[CsatRow]
    by_plan: list[CsatRow]
    by_engineer: list[CsatRow]
    overall: CsatRow | None


def csat_figures(session: Session, since: datetime, until: datetime,
                 customer_code: str | None = None) -> CsatFigures:
    """CSAT of the answers given in ``[since, until)``, for the dashboard."""
    rows = csat_rows(survey_facts(session, since, until, customer_code))
    return CsatFigures(
        since, until,
        [r for r in rows if r.group == "customer"], [r for r in rows if r.group == "plan"],
        [r for r in rows if r.group == "engineer"],
        next((r for r in rows if r.group == "all"), None))
