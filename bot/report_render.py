"""Rendering of the monthly SLA report: Markdown, CSV, PDF and a PNG chart; the monthly job.

The PDF is typeset by :mod:`bot.report_pdf` (ReportLab), the chart drawn by
:mod:`bot.report_chart` (matplotlib). Times are shown in each ticket's local time (the
customer's calendar timezone).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sla.attainment import SLAReport, TargetRow, format_business, local

from .report_chart import chart, render_png
from .report_pdf import ReportContext, render_pdf, report_context

if TYPE_CHECKING:
    from handlers.types import Routing

log = logging.getLogger("destek.report")

__all__ = ["FORMATS", "chart", "monthly_report_job", "render", "render_pdf", "render_png",
           "to_csv", "to_markdown"]

FORMATS = ("md", "csv", "pdf", "png")

DEFINITION = (
    "A ticket belongs to the month when it was reported (its clocks started, P15) in that "
    "month of the customer's local time. Each target is counted at the report's instant: met "
    "= stopped within the target; breached = stopped late or still running past the deadline; "
    "pending = still running before its deadline. Attainment = met / (met + breached). "
    "Business time only (P16); waiting for the customer (P17) is excluded. Median and p90 "
    "(nearest rank) are taken over stopped clocks."
)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _title(report: SLAReport) -> str:
    scope = "all customers" if report.scope == "all" else report.scope
    return f"SLA report {report.month} — {scope}"


def _md_table(headers: list[str], rows: Iterable[list[object]]) -> list[str]:
    def cell(v: object) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return out


def target_label(row: TargetRow) -> str:
    return "all severities" if row.severity == "ALL" else row.severity


def to_markdown(report: SLAReport) -> str:
    """The report as Markdown: every number a customer needs to check it."""
    tz_of = {f.id: f.tz for f in report.tickets}
    lines = [f"# {_title(report)}", "",
             f"As of {report.as_of.astimezone(UTC):%Y-%m-%d %H:%M} UTC. {DEFINITION}", ""]
    lines += [f"## Tickets ({len(report.tickets)})", ""]
    if report.tickets:
        lines += _md_table(
            ["#", "customer", "reported (local)", "severity", "family", "product", "kind",
             "status", "summary"],
            [[f.id, f.customer, f"{local(f.reported_at, f.tz)} {f.tz}", f.severity,
              f.family or "—", f.product or "—", f.kind, f.status, f.summary]
             for f in report.tickets])
    else:
        lines.append("No tickets were reported in this month.")
    lines += ["", "## Tickets by severity and product family", ""]
    families = sorted(report.by_family)
    if families:
        lines += _md_table(
            ["severity", *families, "total"],
            [[sev, *(report.by_severity_family.get((sev, fam), 0) for fam in families), n]
             for sev, n in report.by_severity.items()]
            + [["total", *(report.by_family[f] for f in families), len(report.tickets)]])
    if report.service_requests:
        lines += ["", f"Service requests (billed separately, no SLA clock, P10): "
                      f"{report.service_requests}"]
    lines += ["", "## Service levels", ""]
    lines += _md_table(
        ["severity", "target", "met", "breached", "pending", "attainment", "median",
         "p90"],
        [[target_label(r), r.kind.value, r.met, r.breached, r.pending, _pct(r.attainment),
          format_business(r.median_seconds), format_business(r.p90_seconds)]
         for r in report.targets])
    lines += ["", f"## Breaches ({len(report.breaches)})", ""]
    if report.breaches:
        lines += _md_table(
            ["#", "customer", "severity", "target", "limit", "deadline (local)", "stopped"],
            [[c.ticket_id, c.customer, c.severity, c.kind.value, c.target,
              local(c.deadline, tz_of[c.ticket_id]),
              local(c.stopped_at, tz_of[c.ticket_id]) if c.stopped_at else "still running"]
             for c in report.breaches])
    else:
        lines.append("No target was breached.")
    total_wait = sum(report.waiting_by_ticket.values())
    lines += ["", f"## Waiting time excluded (P17): {format_business(total_wait)}", ""]
    if report.waiting:
        lines += _md_table(
            ["#", "from (local)", "to (local)", "reason", "kind", "business time", "clock time"],
            [[w.ticket_id, local(w.started_at, tz_of[w.ticket_id]),
              local(w.ended_at, tz_of[w.ticket_id]) if w.ended_at else "ongoing",
              w.reason or "—", w.kind, format_business(w.business_seconds),
              format_business(w.wall_seconds)] for w in report.waiting])
    else:
        lines.append("No waiting time.")
    lines += ["", f"## Written exceptions (P18) ({len(report.exceptions)})", ""]
    if report.exceptions:
        lines += _md_table(
            ["#", "at (local)", "by", "text"],
            [[e.ticket_id, local(e.at, tz_of[e.ticket_id]), e.actor, e.text]
             for e in report.exceptions])
    else:
        lines.append("None.")
    if report.usage:
        lines += ["", "## OpenAI usage (P26)", ""]
        lines += _md_table(
            ["customer", "model", "calls", "prompt tokens", "completion tokens", "outcomes"],
            [[u.customer, u.model, u.calls, u.prompt_tokens, u.completion_tokens,
              ", ".join(f"{k} {v}" for k, v in sorted(u.outcomes.items()))]
             for u in report.usage])
    lines += _csat_markdown(report)
    return "\n".join(lines) + "\n"


CSAT_DEFINITION = ("One survey answer per closed ticket, 1 (not at all satisfied) to 5 (very "
                   "satisfied), counted in the month it was given; CSAT = answers of 4 or 5 / "
                   "all answers.")


def _csat_markdown(report: SLAReport) -> list[str]:
    """The satisfaction section (issue #19): CSAT per customer, plan and engineer."""
    answers = next((r.answers for r in report.csat if r.group == "all"), 0)
    lines = ["", f"## Customer satisfaction ({answers} answers)", "", CSAT_DEFINITION, ""]
    if not report.csat:
        return [*lines, "No survey answers in this month."]
    return lines + _md_table(
        ["by", "who", "answers", "satisfied (4-5)", "CSAT", "average score"],
        [[r.group, r.key, r.answers, r.satisfied, _pct(r.csat), f"{r.average:.2f}"]
         for r in report.csat])


CSV_COLUMNS = (
    "section", "month", "scope", "customer", "ticket", "severity", "family", "target", "met",
    "breached", "pending", "attainment_pct", "median_s", "p90_s", "outcome", "deadline_utc",
    "stopped_utc", "elapsed_s", "from_utc", "to_utc", "business_s", "text", "model", "calls",
    "prompt_tokens", "completion_tokens", "group", "answers", "satisfied", "csat_pct",
    "average_score",
)


def to_csv(report: SLAReport) -> str:
    """One CSV with a ``section`` column: target, clock, waiting, exception, usage rows.

    Rows are written by column name, so a value can never land under another column's header.
    """
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, restval="", extrasaction="raise")
    w.writeheader()
    base = {"month": str(report.month), "scope": report.scope}

    def iso(d: datetime | None) -> str:
        return "" if d is None else d.astimezone(UTC).isoformat()

    def opt(v: float | None, fmt: str | None = None) -> str | int:
        return "" if v is None else (fmt.format(v) if fmt else int(v))

    for r in report.targets:
        w.writerow({"section": "target", **base, "severity": r.severity, "target": r.kind.value,
                    "met": r.met, "breached": r.breached, "pending": r.pending,
                    "attainment_pct": opt(r.attainment, "{:.2f}"),
                    "median_s": opt(r.median_seconds), "p90_s": opt(r.p90_seconds)})
    for c in report.clocks:
        w.writerow({"section": "clock", **base, "customer": c.customer, "ticket": c.ticket_id,
                    "severity": c.severity, "family": c.family or "", "target": c.kind.value,
                    "outcome": c.outcome, "deadline_utc": iso(c.deadline),
                    "stopped_utc": iso(c.stopped_at), "elapsed_s": c.elapsed_seconds})
    for x in report.waiting:
        w.writerow({"section": "waiting", **base, "customer": x.customer,
                    "ticket": x.ticket_id, "from_utc": iso(x.started_at),
                    "to_utc": iso(x.ended_at), "business_s": x.business_seconds,
                    "text": x.reason})
    for e in report.exceptions:
        w.writerow({"section": "exception", **base, "ticket": e.ticket_id,
                    "from_utc": iso(e.at), "text": e.text})
    for u in report.usage:
        w.writerow({"section": "usage", **base, "customer": u.customer, "model": u.model,
                    "calls": u.calls, "prompt_tokens": u.prompt_tokens,
                    "completion_tokens": u.completion_tokens})
    for s in report.csat:  # satisfaction (issue #19): per customer, plan, engineer, all
        w.writerow({"section": "csat", **base, "group": s.group, "text": s.key,
                    "answers": s.answers, "satisfied": s.satisfied,
                    "csat_pct": opt(s.csat, "{:.2f}"), "average_score": f"{s.average:.2f}"})
    return buf.getvalue()


def render(report: SLAReport, fmt: str, out: Path | None,
           context: ReportContext | None = None) -> str | Path:
    """Render in ``fmt``: md/csv return text (also written to ``out`` when given); pdf/png
    need ``out`` and return it. ``context`` gives the PDF its language, zone and names."""
    if fmt == "md":
        text = to_markdown(report)
    elif fmt == "csv":
        text = to_csv(report)
    elif fmt in ("pdf", "png"):
        if out is None:
            raise ValueError(f"--format {fmt} needs --out FILE")
        return render_pdf(report, out, context) if fmt == "pdf" else render_png(report, out)
    else:
        raise ValueError(f"unknown format {fmt!r}: use {', '.join(FORMATS)}")
    if out is not None:
        out.write_text(text, encoding="utf-8")
    return text


# -- the monthly job ------------------------------------------------------------------------


def monthly_report_job(database_url: str, routing: Routing, now: datetime,
                       out_dir: str | None = None) -> list[Path]:
    """Scheduler job (run on the 1st of each month, e.g. 08:00 in DESTEK_ENGINEERS_TZ): write
    last month's report for every customer with tickets and for all customers (md, pdf, png)
    under ``<DESTEK_DATA_DIR>/reports`` and queue a message (outbox key
    ``report:<month>:<scope>:<channel>:<target>``, so a rerun posts nothing twice) to each of
    the engineers' destinations of ``routing`` with the summary and the chart's path in the
    payload (``{"file": path}``). Takes plain values so APScheduler can pickle it."""
    from handlers.notify import keys
    from handlers.reports import monthly_report, summary_lines
    from sla.attainment import Month
    from storage import outbox
    from storage.clock import frozen
    from storage.db import engine_for, session_scope
    from storage.reports import customers_with_tickets

    from .cli.common import policy as load_policy
    from .config import get_settings

    cfg = get_settings()
    month = Month.containing(now, cfg.engineers_tz).previous()
    folder = Path(out_dir) if out_dir else cfg.data_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    pol = load_policy()
    dests = routing.engineers
    written: list[Path] = []
    with session_scope(engine_for(database_url), frozen(now)) as s:
        scopes: list[str | None] = [*customers_with_tickets(s, month), None]
        for code in scopes:
            report = monthly_report(s, pol, month, code, now)
            stem = folder / f"sla-{month}-{code or 'all'}"
            Path(f"{stem}.md").write_text(to_markdown(report), encoding="utf-8")
            render_pdf(report, Path(f"{stem}.pdf"),
                       report_context(s, pol, report, cfg.vendor_name))
            png = render_png(report, Path(f"{stem}.png"))
            written += [Path(f"{stem}.md"), Path(f"{stem}.pdf"), png]
            text = "\n".join([_title(report), *summary_lines(report, "en"),
                              f"PDF: {stem}.pdf"])
            for dest in dests:
                outbox.enqueue(s, keys.monthly_report(month, code, dest.channel, dest.target),
                               dest.channel, dest.target, text, thread=dest.thread,
                               payload={"file": str(png), "pdf": f"{stem}.pdf"})
    log.info("monthly SLA reports for %s: %d files", month, len(written))
    return written


def eos_notices_job(database_url: str, policy_path: str | None,
                    now: datetime) -> int:
    """Daily scheduler job (e.g. 09:00 in DESTEK_ENGINEERS_TZ): queue the end-of-support
    notices due; idempotent through the outbox keys. Plain arguments so APScheduler can
    pickle it. Returns how many notices were queued."""
    from handlers.releases import eos_notices
    from sla import load_policy
    from storage.clock import frozen
    from storage.db import engine_for, session_scope

    with session_scope(engine_for(database_url), frozen(now)) as s:
        return len(eos_notices(s, load_policy(policy_path), now))
