"""The dashboard's pages: Jinja2 templates (``bot/web/templates``, autoescaped) rendered through
Starlette, and the plain data each template reads (the ticket report, the monthly report)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from handlers.ticket_report import TicketReport, human_size, label, shown, visibility_name
from handlers.vocabulary import local_when
from sla.attainment import SLAReport, format_business, local
from storage.models import Ticket
from storage.tickets import TicketView

from .assets import TEMPLATES_DIR

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def script_json(value: Any) -> str:
    """``value`` as JSON safe inside ``<script type="application/json">``: ``<``, ``>`` and
    ``&`` are written ``\\u003c``, ``\\u003e``, ``\\u0026`` (and the JavaScript line breaks
    U+2028/9 escaped), so no text — ``</script>``, ``<!--<script>`` — can end, comment out or
    re-open the element; ``JSON.parse`` reads the same value back."""
    text = json.dumps(value, ensure_ascii=False)
    for raw, safe in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                      ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, safe)
    return text


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Template ``name`` with ``context`` (every value escaped by the template)."""
    context.setdefault("user", None)
    return templates.TemplateResponse(request, name, context, status_code=status)


def login_page(request: Request, message: str = "", status: int = 200) -> HTMLResponse:
    """The login form, with ``message`` above it when a login was refused."""
    return render(request, "login.html", status, title="Destek dashboard — log in",
                  error=message or None)


def ticket_head(t: Ticket, view: TicketView, tz: str) -> dict[str, Any]:
    """The ticket's facts above its clocks (read while the ticket's session is open)."""
    return {"customer": view.customer.code, "severity": t.severity, "plan": t.plan,
            "kind": t.kind, "status": t.status, "tier": t.tier,
            "product": view.product.name if view.product else None,
            "version": t.version_text, "assignee": view.assignee.name if view.assignee else None,
            "reported": local(t.reported_at, tz)}


def report_context(report: TicketReport, tz: str) -> dict[str, Any]:
    """The ticket report's fields, attachments and conversation as the template shows them:
    every time in the viewer's zone ``tz``."""
    lang, zone = "en", ZoneInfo(tz)
    fields = []
    for f in report.fields:
        value = local_when(f.value, zone) if isinstance(f.value, datetime) else \
            shown(report, f, lang)
        if value:
            fields.append({"key": f.key, "label": label(f.key, lang), "value": value,
                           "long": f.long})
    return {
        "fields": fields,
        "attachments": [{"id": a.id, "filename": a.filename, "content_type": a.content_type,
                         "size": human_size(a.size)} for a in report.attachments],
        "conversation": [{"at": local(c.at, tz), "visibility": c.visibility or "",
                          "visibility_name": visibility_name(c.visibility or "", lang),
                          "actor": c.actor, "kind": c.kind, "text": c.text}
                         for c in report.conversation],
    }


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def monthly_context(report: SLAReport, tz: str, definition: str) -> dict[str, Any]:
    """The monthly SLA report's data as the page's tables: the same facts as the Markdown
    report, each time in the viewer's zone ``tz``."""
    from ..report_render import target_label

    scope = "all customers" if report.scope == "all" else report.scope
    families = sorted(report.by_family)
    return {
        "title": f"SLA report {report.month} — {scope}",
        "as_of": f"{local(report.as_of.astimezone(UTC), tz)} ({tz})",
        "definition": definition,
        "tickets": [[f.id, f.customer, local(f.reported_at, tz), f.severity, f.family or "—",
                     f.product or "—", f.kind, f.status, f.summary] for f in report.tickets],
        "families_head": ["severity", *families, "total"],
        "families": ([[sev, *(report.by_severity_family.get((sev, fam), 0) for fam in families),
                       n] for sev, n in report.by_severity.items()]
                     + [["total", *(report.by_family[f] for f in families),
                         len(report.tickets)]]) if families else [],
        "service_requests": report.service_requests,
        "targets": [[target_label(r), r.kind.value, r.met, r.breached, r.pending,
                     _pct(r.attainment), format_business(r.median_seconds),
                     format_business(r.p90_seconds)] for r in report.targets],
        "breaches": [[c.ticket_id, c.customer, c.severity, c.kind.value, c.target,
                      local(c.deadline, tz),
                      local(c.stopped_at, tz) if c.stopped_at else "still running"]
                     for c in report.breaches],
        "total_wait": format_business(sum(report.waiting_by_ticket.values())),
        "waiting": [[w.ticket_id, local(w.started_at, tz),
                     local(w.ended_at, tz) if w.ended_at else "ongoing", w.reason or "—",
                     w.kind, format_business(w.business_seconds),
                     format_business(w.wall_seconds)] for w in report.waiting],
        "exceptions": [[e.ticket_id, local(e.at, tz), e.actor, e.text]
                       for e in report.exceptions],
        "usage": [[u.customer, u.model, u.calls, u.prompt_tokens, u.completion_tokens,
                   ", ".join(f"{k} {v}" for k, v in sorted(u.outcomes.items()))]
                  for u in report.usage],
        "csat": [[c.group, c.key, c.answers, c.satisfied, _pct(c.csat), f"{c.average:.2f}"]
                 for c in report.csat],
    }
