"""HTML of the dashboard pages, built in f-strings with every value escaped (``html.escape``).

Jinja2 is not among the dependencies, so the pages are written here rather than as templates.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import urlencode

from starlette.responses import HTMLResponse

from handlers.ticket_report import TicketReport, human_size, label, shown, visibility_name
from sla.attainment import Month, local
from storage.models import Ticket
from storage.tickets import TicketView

e = html.escape


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


def page(title: str, body: str, user: str | None = None, refresh: str = "") -> HTMLResponse:
    """A whole page: title, the navigation when logged in, and ``body`` (already HTML)."""
    nav = ""
    if user:
        nav = (f'<nav><a href="/">Open tickets</a><a href="/report">Monthly report</a>'
               f'<span>{e(user)}</span> <form method="post" action="/logout" '
               f'class="inline"><button id="logout">Log out</button></form></nav>')
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)} · Destek</title>"
        f"{refresh}<link rel='stylesheet' href='/static/dashboard.css'></head><body>{nav}"
        f"<h1>{e(title)}</h1>{body}</body></html>")


def select_options(values: list[str], chosen: str | None, blank: str) -> str:
    """``<option>`` elements for a filter: ``blank`` (no filter) first, ``chosen`` selected."""
    out = [f"<option value=''>{e(blank)}</option>"]
    out += [f"<option{' selected' if v == chosen else ''}>{e(v)}</option>" for v in values]
    return "".join(out)


def ticket_list_html(rows: list[dict[str, Any]], filters: dict[str, str | None],
                     choices: dict[str, list[str]], refresh: int, as_of: str) -> str:
    """The open-tickets page: filters, the table, and the script that ticks and refreshes it."""
    form = (
        "<form class='f' method='get' action='/'>"
        f"<select name='customer'>{select_options(choices['customer'], filters['customer'], 'all customers')}</select> "  # noqa: E501
        f"<select name='severity'>{select_options(choices['severity'], filters['severity'], 'all severities')}</select> "  # noqa: E501
        f"<select name='assignee'>{select_options(choices['assignee'], filters['assignee'], 'anyone')}</select> "  # noqa: E501
        "<button>Filter</button></form>")
    head = (f"<table id='tickets' data-refresh='{int(refresh)}'><thead><tr><th>#</th>"
            "<th>customer</th><th>sev</th>"
            "<th>status</th><th>assignee</th><th>summary</th><th>response</th>"
            "<th>workaround</th><th>resolution</th></tr></thead><tbody id='rows'>")
    body_rows = []
    for r in rows:
        cells = "".join(
            f"<td class='clock {e(c['colour'])}' data-kind='{e(c['kind'])}'>{e(c['text'])}</td>"
            for c in r["clocks"]) or "<td colspan='3'>service request: no SLA clock</td>"
        body_rows.append(
            f"<tr id='t{int(r['number'])}'><td><a href='/ticket/{int(r['number'])}'>"
            f"#{int(r['number'])}</a></td><td>{e(r['customer'])}</td><td>{e(r['severity'])}</td>"
            f"<td>{e(r['status'])}</td>"
            f"<td>{e(r['assignee'] or '—')}</td><td>{e(r['summary'])}</td>{cells}</tr>")
    legend = ("<p>Colours: <span class='ok'>under 50 %</span> <span class='warn'>50–75 %</span>"
              " <span class='hot'>over 75 %</span> <span class='breached'>breached</span> "
              "<span class='paused'>paused (waiting, P17)</span> of each target's business "
              "time used.</p>")
    return (form + f"<p><span id='count'>{len(rows)}</span> open tickets, as of "
            f"<span id='asof'>{e(as_of)}</span>; refreshes every {refresh} s.</p>" + legend
            + head + "".join(body_rows) + "</tbody></table>"
            + f"<script type='application/json' id='tickets-data'>{script_json(rows)}</script>"
            + "<script src='/static/ticker.js'></script>")


def md_to_html(markdown: str) -> str:
    """Enough Markdown for our own report: headings, pipe tables, paragraphs."""
    out: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        if table:
            head, *rest = table
            out.append("<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in head) + "</tr>"
                       + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>"
                                 for r in rest) + "</table>")
            table.clear()

    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [c.strip().replace("\\|", "|")
                     for c in line.strip().strip("|").split(" | ")]
            if not all(set(c) <= {"-"} for c in cells):
                table.append(cells)
            continue
        flush()
        if line.startswith("## "):
            out.append(f"<h2>{e(line[3:])}</h2>")
        elif line.startswith("# "):
            out.append(f"<h2>{e(line[2:])}</h2>")
        elif line.strip():
            out.append(f"<p>{e(line)}</p>")
    flush()
    return "\n".join(out)


def login_page(message: str = "", status: int = 200) -> HTMLResponse:
    """The login form, with ``message`` above it when a login was refused."""
    err = f"<p class='err' id='error'>{e(message)}</p>" if message else ""
    resp = page("Destek dashboard — log in", err + (
        "<form method='post' action='/login'><p><label>Name or e-mail<br>"
        "<input name='name' id='name' autocomplete='username'></label></p>"
        "<p><label>Password<br><input type='password' name='password' id='password' "
        "autocomplete='current-password'></label></p><button id='login'>Log in</button>"
        "</form>"))
    resp.status_code = status
    return resp


def ticket_head_html(t: Ticket, view: TicketView, tz: str) -> str:
    """The ticket's facts above its clocks (read while the ticket's session is open)."""
    return (
        f"<p><b>{e(view.customer.code)}</b> · {e(t.severity)} · {e(t.plan)} · {e(t.kind)} "
        f"· {e(t.status)} · {e(view.product.name if view.product else '—')} "
        f"{e(t.version_text or '')} · assignee {e(view.assignee.name if view.assignee else '—')}"  # noqa: E501
        f" · reported {local(t.reported_at, tz)} ({e(tz)})</p>")


def attachment_url(number: int, attachment_id: int) -> str:
    """Where the dashboard serves a ticket's attachment (behind the login)."""
    return f"/ticket/{number}/attachments/{attachment_id}"


def report_html(report: TicketReport) -> str:
    """The ticket's whole report: every field, the attachments (downloadable), the
    conversation with public and internal entries marked. Every value is escaped."""
    lang = "en"
    fields = "".join(
        f"<tr data-key='{e(f.key)}'><th>{e(label(f.key, lang))}</th>"
        f"<td{' class=long' if f.long else ''}>{e(shown(report, f, lang))}</td></tr>"
        for f in report.fields if shown(report, f, lang))
    files = "".join(
        f"<tr><td><a href='{attachment_url(report.number, a.id)}'>{e(a.filename)}</a></td>"
        f"<td>{e(a.content_type)}</td><td>{e(human_size(a.size))}</td></tr>"
        for a in report.attachments) or "<tr><td colspan='3'>none</td></tr>"
    talk = "".join(
        f"<tr class='{e(c.visibility or '')}'><td>{e(local(c.at, report.zone.key))}</td>"
        f"<td>{e(visibility_name(c.visibility or '', lang))}</td><td>{e(c.actor)}</td>"
        f"<td>{e(c.kind)}</td><td class='long'>{e(c.text)}</td></tr>"
        for c in report.conversation) or "<tr><td colspan='5'>nothing yet</td></tr>"
    zone = e(report.zone.key)
    return (f"<h2>Report</h2><p>Times in {zone}.</p><table id='report'>{fields}</table>"
            "<h2>Attachments</h2><table id='attachments'><tr><th>name</th><th>type</th>"
            f"<th>size</th></tr>{files}</table>"
            f"<h2>Conversation</h2><table id='conversation'><tr><th>when ({zone})</th>"
            f"<th>visibility</th><th>who</th><th>kind</th><th>text</th></tr>{talk}</table>")


def ticket_body_html(head: str, clocks: list[dict[str, Any]], items: list[dict[str, str]],
                     tz: str, report: str = "") -> str:
    """One ticket's page body: its facts, a row per clock, the ``report`` (HTML of
    :func:`report_html`) and the timeline."""
    clock_table = "<table id='clocks'><tr><th>target</th><th>limit</th><th>deadline</th>" \
        "<th>state</th><th>remaining</th></tr>" + "".join(
            f"<tr><td>{e(c['kind'])}</td><td>{e(c['target'])}</td>"
            f"<td>{e(c['deadline'] or '—')}</td><td>{e(c['status'])}</td>"
            f"<td class='clock {e(c['colour'])}'>{e(c['text'])}"
            "</td></tr>" for c in clocks) + "</table>"
    rows = "".join(
        f"<tr class='{e(it['type'])}{' future' if it['future'] else ''}'><td>{e(it['at'])}</td>"
        f"<td>{e(it['type'])}</td><td>{e(it['title'])}</td><td>{e(it['text'])}</td></tr>"
        for it in items)
    return (head + clock_table + report + "<h2>Timeline</h2><table id='timeline'><tr><th>when ("
            f"{e(tz)})</th><th>type</th><th>what</th><th>detail</th></tr>{rows}</table>")


def report_body_html(month: Month, codes: list[str], code: str | None, markdown: str) -> str:
    """The monthly report page body: the month and customer form, the chart, the report."""
    query = urlencode({"month": str(month), **({"customer": code} if code else {})})
    form = ("<form class='f' method='get' action='/report'>"
            f"<input name='month' value='{e(str(month))}' size='8'> "
            f"<select name='customer'>{select_options(codes, code, 'all customers')}</select> "
            "<button>Show</button></form>")
    return (form + f"<p><img id='chart' src='/report.png?{e(query)}' alt='SLA chart' "
            "width='900'></p>" + md_to_html(markdown))
