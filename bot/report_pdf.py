"""The monthly SLA report as a typeset PDF (ReportLab platypus), in the customer's language.

A title page (customer, month, plans, when it was generated, in the customer's zone), then
tables with repeated header rows: attainment per plan × severity × target, tickets, breaches,
waiting time (P17), written exceptions (P18), AI usage (P26), and the chart inline. Text is
set in DejaVu Sans (matplotlib ships it), which has the Turkish letters (İ ı ş ğ); every page
carries "Page N of M" / "Sayfa N / M". The report for all customers is in English.
"""

from __future__ import annotations

import functools
import io
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from sqlmodel import Session, col, select

from handlers.i18n import normalise_language, t
from handlers.vocabulary import clock_name, status_name
from sla import ClockKind, Policy
from sla.attainment import ClockFact, SLAReport, format_business, local
from storage.directory import active_contract, customer_calendar, get_customer
from storage.models import Ticket

from .report_chart import chart
from .report_labels import month_name
from .report_typeset import (
    FONT,
    GRID,
    MARGIN,
    NBSP,
    WIDTH,
    canvas_class,
    para,
    register_fonts,
    styles,
    table,
)


@dataclass(frozen=True)
class ReportContext:
    """What the report needs beyond its numbers: language, zone, names and plans."""

    lang: str = "en"
    tz: str | None = None  # the customer's zone; None: each ticket's own (all customers)
    customer_name: str | None = None
    plans: tuple[str, ...] = ()  # plan keys shown on the title page
    ticket_plans: Mapping[int, str] = field(default_factory=dict)  # ticket id -> plan key
    plan_names: Mapping[str, str] = field(default_factory=dict)
    severity_names: Mapping[str, str] = field(default_factory=dict)
    vendor: str | None = None


def report_context(session: Session, policy: Policy, report: SLAReport,
                   vendor: str | None = None) -> ReportContext:
    """Read the customer's language, zone and name, and each ticket's plan (snapshotted when
    it opened), for the PDF of ``report``."""
    ids = [f.id for f in report.tickets]
    ticket_plans: dict[int, str] = {}
    if ids:
        for tid, plan in session.exec(select(Ticket.id, Ticket.plan)
                                      .where(col(Ticket.id).in_(ids))):
            if tid is not None:
                ticket_plans[tid] = plan
    plans = set(ticket_plans.values())
    lang, tz, name = "en", None, None
    if report.scope != "all":
        customer = get_customer(session, report.scope)
        lang = normalise_language(customer.language) or "en"
        tz = customer_calendar(customer).tz
        name = customer.name
        last_day = report.month.next().bounds(tz)[0].date() - timedelta(days=1)
        contract = active_contract(session, customer.id or 0, last_day)
        if contract is not None:
            plans.add(contract.plan)
    return ReportContext(
        lang=lang, tz=tz, customer_name=name, plans=tuple(sorted(plans)),
        ticket_plans=ticket_plans,
        plan_names={k: getattr(p.name, lang) for k, p in policy.plans.items()},
        severity_names={k: getattr(s.name, lang) for k, s in policy.severities.items()},
        vendor=vendor,
    )


class _Report:
    """Builds the story (flowables) of one report in one language."""

    def __init__(self, report: SLAReport, ctx: ReportContext) -> None:
        self.r, self.ctx, self.lang = report, ctx, ctx.lang
        self.tz_of = {f.id: f.tz for f in report.tickets}
        self.all = report.scope == "all"

    def tr(self, key: str, **kw: Any) -> str:
        return t(key, self.lang, **kw)

    def kind(self, kind: ClockKind) -> str:
        return clock_name(kind, self.lang)

    def sev(self, code: str) -> str:
        name = self.ctx.severity_names.get(code)
        return f"{code} {name}" if name else code

    def plan(self, key: str) -> str:
        return self.ctx.plan_names.get(key, key)

    def when(self, at: Any, ticket_id: int) -> str:
        return local(at, self.ctx.tz or self.tz_of.get(ticket_id, "UTC")).replace(" ", NBSP)

    def month(self) -> str:
        return f"{month_name(self.r.month.month, self.lang)} {self.r.month.year}"

    def scope(self) -> str:
        if self.all:
            return self.tr("pdf.all_customers")
        return f"{self.ctx.customer_name} ({self.r.scope})" if self.ctx.customer_name \
            else self.r.scope

    def running_title(self) -> str:
        return f"{self.tr('pdf.title')} · {self.scope()} · {self.month()}"

    # -- pages ------------------------------------------------------------------------------

    def story(self) -> list[Flowable]:
        out = self.title_page()
        out.append(PageBreak())
        sections = (self.attainment, self.tickets, self.breaches, self.waiting,
                    self.exceptions, self.usage, self.satisfaction)
        for n, section in enumerate(sections, 1):
            heading, *body = section()
            out.append(Paragraph(f"{n}. {escape(heading)}", styles()["h2"]))
            out += body
        out += self.charts(len(sections) + 1)
        return out

    def title_page(self) -> list[Flowable]:
        zone = self.ctx.tz or "UTC"
        plans = ", ".join(self.plan(p) for p in self.ctx.plans) or "—"
        facts = [
            (self.tr("pdf.customer"), self.scope()),
            (self.tr("pdf.month"), f"{self.month()} ({self.r.month})"),
            (self.tr("pdf.plans" if len(self.ctx.plans) > 1 else "pdf.plan"), plans),
            (self.tr("pdf.generated"), f"{local(self.r.as_of, zone)} ({zone})"),
            (self.tr("pdf.tickets_count"), str(len(self.r.tickets))),
        ]
        if self.ctx.vendor:
            facts.append((self.tr("pdf.vendor"), self.ctx.vendor))
        info = Table([[para(k, "body"), para(v, "body")] for k, v in facts],
                     colWidths=[0.3 * WIDTH, 0.7 * WIDTH])
        info.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), FONT),
            ("LINEBELOW", (0, 0), (-1, -1), 0.4, GRID),
            ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ]))
        totals = [[self.kind(r.kind), f"{r.met} / {r.decided}", r.breached, r.pending,
                   _pct(r.attainment)] for r in self.r.totals]
        return [
            Spacer(1, 30 * mm),
            Paragraph(escape(self.tr("pdf.title")), styles()["title"]),
            Paragraph(escape(f"{self.scope()} — {self.month()}"), styles()["subtitle"]),
            info,
            Paragraph(escape(self.tr("pdf.summary")), styles()["h2"]),
            table([self.tr("pdf.c.target"), self.tr("pdf.c.met_total"),
                    self.tr("pdf.c.breached"), self.tr("pdf.c.pending"),
                    self.tr("pdf.c.attainment")], totals, [3, 2.5, 1.5, 1.5, 1.5],
                   numeric=(1, 2, 3, 4)),
            Spacer(1, 6 * mm),
            para(self.tr("pdf.definition"), "small"),
        ]

    def attainment(self) -> list[Flowable]:
        groups: dict[tuple[str, str, ClockKind], list[ClockFact]] = defaultdict(list)
        for c in self.r.clocks:
            groups[(self.ctx.ticket_plans.get(c.ticket_id, "—"), c.severity, c.kind)].append(c)
        order = list(ClockKind)
        rows: list[list[object]] = []
        last: tuple[str, str] | None = None
        for (plan, sev, kind) in sorted(groups, key=lambda k: (k[0], k[1], order.index(k[2]))):
            facts = groups[(plan, sev, kind)]
            head = [self.plan(plan), self.sev(sev)] if (plan, sev) != last else ["", ""]
            last = (plan, sev)
            rows.append([*head, self.kind(kind), ", ".join(sorted({c.target for c in facts})),
                         *_counts(facts)])
        for r in self.r.totals:
            rows.append([self.tr("pdf.total") if r.kind is order[0] else "",
                         self.tr("pdf.all_severities") if r.kind is order[0] else "",
                         self.kind(r.kind), "", f"{r.met} / {r.decided}", r.breached,
                         r.pending, _pct(r.attainment), format_business(r.median_seconds)])
        headers = [self.tr(f"pdf.c.{k}") for k in ("plan", "severity", "target", "limit",
                                                    "met_total", "breached", "pending",
                                                    "attainment", "median")]
        return [self.tr("pdf.h.attainment"),
                table(headers, rows, [1.4, 1.8, 2.2, 1.5, 1.6, 1.1, 1.2, 1.3, 1.3],
                       numeric=(4, 5, 6, 7, 8), rule_before=len(rows) - len(self.r.totals))]

    def tickets(self) -> list[Flowable]:
        heading = self.tr("pdf.h.tickets", n=len(self.r.tickets))
        if not self.r.tickets:
            return [heading, para(self.tr("pdf.tickets.none"), "body")]
        cols = ["ticket", *(["customer", "zone"] if self.all else []), "reported", "severity",
                "product", "status", "summary"]
        rows = [[f"#{f.id}", *([f.customer, f.tz] if self.all else []),
                 self.when(f.reported_at, f.id), self.sev(f.severity), f.product or "—",
                 status_name(f.status, self.lang), f.summary] for f in self.r.tickets]
        widths = [0.8, *([1.2, 1.2] if self.all else []), 1.9, 1.6, 1.6, 1.4, 4.6]
        out: list[Flowable] = [heading, self.zone_note(),
                               table([self.tr(f"pdf.c.{c}") for c in cols], rows, widths)]
        if self.r.service_requests:
            out += [Spacer(1, 2 * mm),
                    para(self.tr("pdf.service_requests", n=self.r.service_requests), "body")]
        return out

    def zone_note(self) -> Paragraph:
        text = (self.tr("pdf.times_in", zone=self.ctx.tz) if self.ctx.tz
                else self.tr("pdf.times_local"))
        return para(text, "small")

    def breaches(self) -> list[Flowable]:
        found = self.r.breaches
        heading = self.tr("pdf.h.breaches", n=len(found))
        if not found:
            return [heading, para(self.tr("pdf.breaches.none"), "body")]
        cols = ["ticket", *(["customer"] if self.all else []), "severity", "target", "limit",
                "deadline", "stopped", *(["zone"] if self.all else [])]
        rows = [[f"#{c.ticket_id}", *([c.customer] if self.all else []), self.sev(c.severity),
                 self.kind(c.kind), c.target, self.when(c.deadline, c.ticket_id),
                 self.when(c.stopped_at, c.ticket_id) if c.stopped_at
                 else self.tr("pdf.still_running"),
                 *([self.tz_of.get(c.ticket_id, "UTC")] if self.all else [])] for c in found]
        widths = [0.8, *([1.3] if self.all else []), 1.6, 1.7, 1.3, 2.0, 2.0,
                  *([2.0] if self.all else [])]
        return [heading, self.zone_note(),
                table([self.tr(f"pdf.c.{c}") for c in cols], rows, widths)]

    def waiting(self) -> list[Flowable]:
        heading = self.tr("pdf.h.waiting")
        if not self.r.waiting:
            return [heading, para(self.tr("pdf.waiting.none"), "body")]
        rows = [[f"#{w.ticket_id}", self.when(w.started_at, w.ticket_id),
                 self.when(w.ended_at, w.ticket_id) if w.ended_at else self.tr("pdf.ongoing"),
                 w.reason or "—", format_business(w.business_seconds),
                 format_business(w.wall_seconds)] for w in self.r.waiting]
        cols = ["ticket", "from", "to", "reason", "business", "wall"]
        total = format_business(sum(self.r.waiting_by_ticket.values()))
        out: list[Flowable] = [heading, self.zone_note(),
                               table([self.tr(f"pdf.c.{c}") for c in cols], rows,
                                      [0.8, 1.9, 1.9, 3.6, 1.4, 1.4], numeric=(4, 5)),
                               Spacer(1, 2 * mm)]
        out += [para(self.tr("pdf.waiting.ticket", id=tid, total=format_business(sec)), "body")
                for tid, sec in sorted(self.r.waiting_by_ticket.items())]
        out.append(para(self.tr("pdf.waiting.total", total=total), "body"))
        return out

    def exceptions(self) -> list[Flowable]:
        heading = self.tr("pdf.h.exceptions")
        if not self.r.exceptions:
            return [heading, para(self.tr("pdf.exceptions.none"), "body")]
        rows = [[f"#{e.ticket_id}", self.when(e.at, e.ticket_id), e.actor, e.text]
                for e in self.r.exceptions]
        cols = ["ticket", "at", "by", "text"]
        return [heading, self.zone_note(),
                table([self.tr(f"pdf.c.{c}") for c in cols], rows, [0.8, 1.9, 1.8, 6.0])]

    def usage(self) -> list[Flowable]:
        heading = self.tr("pdf.h.usage")
        if not self.r.usage:
            return [heading, para(self.tr("pdf.usage.none"), "body")]

        def outcomes(counts: Mapping[str, int]) -> str:
            return ", ".join(f"{self._outcome(k)} {v}" for k, v in sorted(counts.items()))

        rows = [[*([u.customer] if self.all else []), u.model, u.calls, u.prompt_tokens,
                 u.completion_tokens, u.prompt_tokens + u.completion_tokens,
                 outcomes(u.outcomes)] for u in self.r.usage]
        cols = [*(["customer"] if self.all else []), "model", "calls", "prompt", "completion",
                "total_tokens", "outcomes"]
        first = 1 if self.all else 0
        widths = [*([1.4] if self.all else []), 1.8, 0.9, 1.4, 1.4, 1.4, 2.6]
        return [heading,
                table([self.tr(f"pdf.c.{c}") for c in cols], rows, widths,
                       numeric=range(first + 1, first + 5)),
                Spacer(1, 2 * mm), para(self.tr("pdf.usage.note"), "small")]

    def satisfaction(self) -> list[Flowable]:
        """CSAT per customer, plan and engineer (issue #19): answers given in the month."""
        heading = self.tr("pdf.h.csat")
        if not self.r.csat:
            return [heading, para(self.tr("pdf.csat.none"), "body")]
        rows = [[self.tr(f"pdf.csat.by.{c.group}"), self.plan(c.key) if c.group == "plan"
                 else c.key, c.answers, c.satisfied,
                 "—" if c.csat is None else f"{c.csat:.0f} %", f"{c.average:.2f}"]
                for c in self.r.csat]
        cols = ["csat_by", "csat_who", "csat_answers", "csat_satisfied", "csat", "csat_avg"]
        return [heading, para(self.tr("pdf.csat.note"), "small"), Spacer(1, 2 * mm),
                table([self.tr(f"pdf.c.{c}") for c in cols], rows, [1.5, 3.2, 1.2, 1.6, 1.1, 1.2],
                      numeric=range(2, 6))]

    def _outcome(self, outcome: str) -> str:
        try:
            return self.tr(f"pdf.outcome.{outcome}")
        except KeyError:  # an outcome this catalogue does not know yet: shown as stored
            return outcome

    def charts(self, n: int) -> list[Flowable]:
        from matplotlib import pyplot as plt

        fig = chart(self.r, self.lang, self.ctx.tz or "UTC", with_title=False)
        buf = io.BytesIO()
        try:
            w_in, h_in = fig.get_size_inches()
            fig.savefig(buf, format="png", dpi=150)
        finally:
            plt.close(fig)
        buf.seek(0)
        image = Image(buf, width=WIDTH, height=WIDTH * h_in / w_in)
        heading = Paragraph(f"{n}. {escape(self.tr('pdf.h.charts'))}", styles()["h2"])
        return [KeepTogether([heading, image])]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _counts(facts: Sequence[ClockFact]) -> list[object]:
    """Met / decided, breached, pending, attainment %, median of one table row."""
    met = sum(1 for c in facts if c.outcome == "met")
    breached = sum(1 for c in facts if c.outcome == "breached")
    pending = len(facts) - met - breached
    done = [float(c.elapsed_seconds) for c in facts if c.stopped_at is not None]
    decided = met + breached
    return [f"{met} / {decided}", breached, pending,
            _pct(100.0 * met / decided if decided else None),
            format_business(statistics.median(done) if done else None)]


def render_pdf(report: SLAReport, path: Path, context: ReportContext | None = None) -> Path:
    """Write the typeset report to ``path`` (A4) and return it. Without ``context`` the
    report is in English with each ticket's own zone and no names or plans."""
    ctx = context or ReportContext()
    register_fonts()
    builder = _Report(report, ctx)
    doc = SimpleDocTemplate(
        str(path), pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
        topMargin=MARGIN, bottomMargin=MARGIN, title=builder.running_title(),
        author=ctx.vendor or "Destek", creator="Destek", subject=str(report.month),
        invariant=1,  # the same report gives the same bytes (no creation timestamp, fixed id)
    )
    footer = functools.partial(_page_label, ctx.lang)
    doc.build(builder.story(), canvasmaker=canvas_class(footer, builder.running_title()))
    return path


def _page_label(lang: str, n: int, total: int) -> str:
    return t("pdf.page", lang, n=n, total=total)


__all__ = ["ReportContext", "render_pdf", "report_context"]

