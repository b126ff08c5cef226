"""The support manager's live dashboard: a small read-only Starlette app behind a login.

Pages: open tickets with a countdown per clock (coloured by the elapsed fraction, filtered by
customer, severity and assignee), a ticket's timeline (events, pauses, reminder thresholds,
breaches) and the monthly SLA report. The ticket list refreshes itself from ``/api/tickets``
every ``refresh`` seconds; between refreshes the countdowns tick in the browser, and only for
clocks whose business calendar is open (the server says for how many seconds they may tick).

Login: engineer and manager contacts with a password (``destek contact password NAME``),
hashed with scrypt; the session cookie is signed (Starlette's SessionMiddleware). Customers,
inactive contacts, unknown names and wrong passwords are refused with the same message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from starlette.responses import Response as HTTPResponse
from starlette.routing import Route

from handlers.reports import monthly_report
from sla import ClockStatus, Policy, format_duration
from sla.attainment import Month, local
from sla.clock import _epoch, merge_pauses
from sla.reminders import plan_reminders
from storage import tickets as ticket_store
from storage.clock import system_clock
from storage.db import engine_for, session_scope
from storage.directory import find_contact, get_customer
from storage.models import Contact, Customer, Role, Ticket, TicketEvent
from storage.tickets import TicketView

log = logging.getLogger("destek.dashboard")

STAFF = (Role.ENGINEER.value, Role.MANAGER.value)
REFUSED = "Unknown name or wrong password, or no dashboard access."

# -- passwords -------------------------------------------------------------------------------

_N, _R, _P = 2**14, 8, 1


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64); a fresh 16-byte salt by default."""
    if not password:
        raise ValueError("an empty password is not allowed")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or not password:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p), dklen=len(base64.b64decode(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def set_password(session: Session, ref: str, password: str) -> Contact:
    """Give a vendor staff contact a dashboard password (customers cannot have one)."""
    from storage.directory import RecordError

    contact = find_contact(session, ref)
    if contact is None:
        raise RecordError(f"unknown contact {ref!r}")
    if contact.role not in STAFF:
        raise RecordError(f"{contact.name} is a customer contact: the dashboard is for "
                          "engineers and managers")
    if len(password) < 8:
        raise RecordError("the password needs at least 8 characters")
    contact.password_hash = hash_password(password)
    session.add(contact)
    return contact


def authenticate(session: Session, ref: str, password: str) -> Contact | None:
    """The staff contact with this name / e-mail / Slack id and password, else None."""
    ref = ref.strip()
    contact = None
    if ref:
        contact = find_contact(session, ref) or session.exec(
            select(Contact).where(func.lower(Contact.email) == ref.lower())).first()
        if contact is None:
            contact = session.exec(
                select(Contact).where(func.lower(Contact.name) == ref.lower())).first()
    ok = contact is not None and verify_password(password, contact.password_hash)
    if not ok:
        verify_password(password, _DUMMY)  # same work for unknown names
        return None
    assert contact is not None
    if contact.role not in STAFF or not contact.active:
        return None
    return contact


_DUMMY = hash_password("not-a-password", b"0123456789abcdef")

# -- data ------------------------------------------------------------------------------------


def _colour(status: str, fraction: float | None) -> str:
    if status == ClockStatus.BREACHED:
        return "breached"
    if status in (ClockStatus.MET, ClockStatus.NO_TARGET):
        return "done"
    if status == ClockStatus.PAUSED:
        return "paused"
    f = fraction or 0.0
    return "ok" if f < 0.5 else "warn" if f < 0.75 else "hot"


def clock_rows(session: Session, policy: Policy, view: TicketView, now: datetime,
               horizon: float) -> list[dict[str, Any]]:
    """Each clock as the page shows it; ``tick`` = seconds the browser may count down from
    ``now`` before the next refresh (0 when paused, stopped or outside business hours)."""
    clocks = ticket_store.ticket_clocks(session, view.ticket)
    pauses = merge_pauses(clocks.pauses)
    now_t = _epoch(now)
    paused = any(a <= now_t < b for a, b in pauses)
    rows = []
    tz = clocks.calendar.tz
    for s in view.clocks:
        tick = 0
        if s.stopped_at is None and s.remaining is not None and not paused \
                and s.status in (ClockStatus.RUNNING, ClockStatus.BREACHED):
            tl = clocks.calendar_for(s.target).timeline()
            if tl.is_open(now_t):
                tick = int(tl.between(now_t, now_t + horizon))
        rows.append({
            "kind": s.kind.value,
            "target": s.target.label(),
            "target_seconds": s.target_seconds,
            "status": s.status.value,
            "deadline": local(s.deadline, tz) if s.deadline else None,
            "remaining": int(s.remaining.total_seconds()) if s.remaining is not None else None,
            "fraction": round(s.fraction, 4) if s.fraction is not None else None,
            "colour": _colour(s.status.value, s.fraction),
            "tick": tick,
            "text": _countdown_text(s.status.value, s.remaining),
        })
    return rows


def _countdown_text(status: str, remaining: timedelta | None) -> str:
    if status == ClockStatus.MET:
        return "met"
    if status == ClockStatus.NO_TARGET or remaining is None:
        return "—"
    if remaining.total_seconds() < 0:
        return f"overdue {format_duration(-remaining)}"
    return format_duration(remaining) + (" (paused)" if status == ClockStatus.PAUSED else "")


def open_tickets(session: Session, policy: Policy, now: datetime, customer: str | None = None,
                 severity: str | None = None, assignee: str | None = None,
                 horizon: float = 30) -> list[dict[str, Any]]:
    """Open and pending tickets with their clocks, most urgent first."""
    cid = None
    if customer:
        try:
            cid = get_customer(session, customer).id
        except ValueError:
            return []
    aid = None
    if assignee:
        contact = find_contact(session, assignee)
        if contact is None:
            return []
        aid = contact.id
    rows = []
    for t in ticket_store.list_tickets(session, cid, open_only=True, assignee_id=aid):
        if severity and t.severity != severity:
            continue
        view = ticket_store.view(session, policy, t, now)
        clocks = clock_rows(session, policy, view, now, horizon)
        running = [c["remaining"] for c in clocks
                   if c["remaining"] is not None and c["status"] != "met"]
        rows.append({
            "number": t.id, "customer": view.customer.code, "severity": t.severity,
            "status": t.status, "summary": t.summary,
            "assignee": view.assignee.name if view.assignee else None,
            "product": view.product.name if view.product else None,
            "reported": local(t.reported_at, view.zone.key),
            "clocks": clocks, "urgency": min(running) if running else 10**9,
        })
    rows.sort(key=lambda r: (r["urgency"], r["number"]))
    return rows


def timeline(session: Session, policy: Policy, ticket: Ticket, now: datetime
             ) -> list[dict[str, str]]:
    """Events, pauses, reminder thresholds and breaches of one ticket, by time."""
    clocks = ticket_store.ticket_clocks(session, ticket)
    tz = clocks.calendar.tz
    items: list[tuple[datetime, str, str, str]] = []
    for e in ticket_store.events(session, ticket.id or 0):
        items.append((e.at, "event", e.kind, f"{e.actor}: {e.text}"))
    for p in ticket_store.pauses(session, ticket.id or 0):
        items.append((p.started_at, "pause", "waiting (P17)", p.reason or p.kind))
        if p.ended_at:
            items.append((p.ended_at, "pause", "waiting ended", p.reason or p.kind))
    if ticket_store.has_clock(ticket):
        stops = clocks.stops or {}
        for th in plan_reminders(policy, clocks):
            stop = stops.get(th.kind)
            if stop is not None and stop < th.at:
                continue  # the clock stopped before reaching it
            if th.breach:
                items.append((th.at, "breach", f"{th.kind.value} breach",
                               f"deadline of {th.kind.value} passed"
                               + ("" if th.at <= now else " (if not stopped by then)")))
            else:
                items.append((th.at, "threshold", f"{th.kind.value} {th.label}",
                              "reminder threshold" + ("" if th.at <= now else " (ahead)")))
    items.sort(key=lambda x: x[0])
    return [{"at": local(at, tz), "type": typ, "title": title, "text": text,
             "future": "1" if at > now else ""} for at, typ, title, text in items]


# -- HTML ------------------------------------------------------------------------------------

e = html.escape

CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.3em .5em;
font-size:.9em;vertical-align:top}th{background:#f3f3f3}
.ok{background:#c8efc8}.warn{background:#ffe9a8}.hot{background:#ffbf80}
.breached{background:#f08080;font-weight:bold}.paused{background:#ddd}.done{background:#eef4fb}
nav a{margin-right:1em}.future{color:#888}.err{color:#b00}form.f{margin:.5em 0}
"""


def page(title: str, body: str, user: str | None = None, refresh: str = "") -> HTMLResponse:
    nav = ""
    if user:
        nav = (f'<nav><a href="/">Open tickets</a><a href="/report">Monthly report</a>'
               f'<span>{e(user)}</span> <form method="post" action="/logout" '
               f'style="display:inline"><button>Log out</button></form></nav>')
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)} · Destek</title>"
        f"{refresh}<style>{CSS}</style></head><body>{nav}<h1>{e(title)}</h1>{body}"
        "</body></html>")


def _options(values: list[str], chosen: str | None, blank: str) -> str:
    out = [f"<option value=''>{e(blank)}</option>"]
    out += [f"<option{' selected' if v == chosen else ''}>{e(v)}</option>" for v in values]
    return "".join(out)


TICKER_JS = """
<script>
const REFRESH = %(refresh)d;
function fmt(s){const neg=s<0;s=Math.abs(Math.floor(s));
 const h=Math.floor(s/3600),m=Math.floor((s%%3600)/60);
 const t=h?`${h}h ${String(m).padStart(2,'0')}m`:`${m}m`;return neg?`overdue ${t}`:t;}
function colour(c){if(c.status==='breached'||c.remaining<0)return'breached';
 if(c.status==='met'||c.status==='no-target')return'done';
 if(c.status==='paused')return'paused';
 const f=c.fraction||0;return f<0.5?'ok':f<0.75?'warn':'hot';}
let DATA=%(data)s;
function cell(c){if(c.status==='met'||c.status==='no-target'||c.remaining===null)return c.text;
 return fmt(c.remaining)+(c.status==='paused'?' (paused)':'');}
const ESC={'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'};
function esc(s){return String(s).replace(/[&<>"']/g,ch=>ESC[ch]);}
function td(c){return `<td class="clock ${colour(c)}" data-kind="${c.kind}"`+
 ` title="${esc(c.target)}, due ${esc(c.deadline||'—')}">${cell(c)}</td>`;}
function tr(t){const clocks=t.clocks.length?t.clocks.map(td).join(''):
 '<td colspan="3">service request: no SLA clock</td>';
 return `<tr id="t${t.number}"><td><a href="/ticket/${t.number}">#${t.number}</a></td>`+
 `<td>${esc(t.customer)}</td><td>${t.severity}</td><td>${esc(t.status)}</td>`+
 `<td>${esc(t.assignee||'—')}</td><td>${esc(t.summary)}</td>${clocks}</tr>`;}
function draw(){const body=document.getElementById('rows');if(!body)return;
 body.innerHTML=DATA.map(tr).join('');
 document.getElementById('count').textContent=DATA.length;}
setInterval(()=>{for(const t of DATA)for(const c of t.clocks){if(c.tick>0){c.tick--;
 c.remaining--;if(c.target_seconds)c.fraction=1-c.remaining/c.target_seconds;}}draw();},1000);
async function reload(){try{
 const r=await fetch('/api/tickets'+location.search,{credentials:'same-origin'});
 if(r.status===401){location.href='/login';return;}const j=await r.json();DATA=j.tickets;
 document.getElementById('asof').textContent=j.as_of;draw();}catch(err){}}
setInterval(reload,REFRESH*1000);
</script>
"""


def ticket_list_html(rows: list[dict[str, Any]], filters: dict[str, str | None],
                     choices: dict[str, list[str]], refresh: int, as_of: str) -> str:
    form = (
        "<form class='f' method='get' action='/'>"
        f"<select name='customer'>{_options(choices['customer'], filters['customer'], 'all customers')}</select> "  # noqa: E501
        f"<select name='severity'>{_options(choices['severity'], filters['severity'], 'all severities')}</select> "  # noqa: E501
        f"<select name='assignee'>{_options(choices['assignee'], filters['assignee'], 'anyone')}</select> "  # noqa: E501
        "<button>Filter</button></form>")
    head = ("<table id='tickets'><thead><tr><th>#</th><th>customer</th><th>sev</th>"
            "<th>status</th><th>assignee</th><th>summary</th><th>response</th>"
            "<th>workaround</th><th>resolution</th></tr></thead><tbody id='rows'>")
    body_rows = []
    for r in rows:
        cells = "".join(
            f"<td class='clock {c['colour']}' data-kind='{c['kind']}'>{e(c['text'])}</td>"
            for c in r["clocks"]) or "<td colspan='3'>service request: no SLA clock</td>"
        body_rows.append(
            f"<tr id='t{r['number']}'><td><a href='/ticket/{r['number']}'>#{r['number']}</a>"
            f"</td><td>{e(r['customer'])}</td><td>{r['severity']}</td><td>{e(r['status'])}</td>"
            f"<td>{e(r['assignee'] or '—')}</td><td>{e(r['summary'])}</td>{cells}</tr>")
    legend = ("<p>Colours: <span class='ok'>under 50 %</span> <span class='warn'>50–75 %</span>"
              " <span class='hot'>over 75 %</span> <span class='breached'>breached</span> "
              "<span class='paused'>paused (waiting, P17)</span> of each target's business "
              "time used.</p>")
    data = json.dumps(rows, ensure_ascii=False).replace("</", "<\\/")
    return (form + f"<p><span id='count'>{len(rows)}</span> open tickets, as of "
            f"<span id='asof'>{e(as_of)}</span>; refreshes every {refresh} s.</p>" + legend
            + head + "".join(body_rows) + "</tbody></table>"
            + TICKER_JS % {"refresh": refresh, "data": data})


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


# -- the app ---------------------------------------------------------------------------------


def create_app(
    database_url: str | None = None,
    policy: Policy | None = None,
    secret: str | None = None,
    now: Callable[[], datetime] | None = None,
    refresh_seconds: int = 15,
    engine: Engine | None = None,
    https_only: bool = False,
) -> Starlette:
    """The dashboard app. ``secret`` signs the session cookie (random per process when None:
    sessions then end with a restart)."""
    if engine is None:
        assert database_url is not None
        engine = engine_for(database_url)
    if policy is None:
        from sla import load_policy

        policy = load_policy()
    pol: Policy = policy
    eng: Engine = engine
    clock = now or system_clock

    def user_of(request: Request) -> Contact | None:
        uid = request.session.get("uid")
        if not isinstance(uid, int):
            return None
        with session_scope(eng, clock) as s:
            c = s.get(Contact, uid)
            if c is None or c.role not in STAFF or not c.active:
                return None
            s.expunge(c)
            return c

    def login_form(message: str = "", status: int = 200) -> HTMLResponse:
        err = f"<p class='err' id='error'>{e(message)}</p>" if message else ""
        resp = page("Destek dashboard — log in", err + (
            "<form method='post' action='/login'><p><label>Name or e-mail<br>"
            "<input name='name' id='name' autocomplete='username'></label></p>"
            "<p><label>Password<br><input type='password' name='password' id='password' "
            "autocomplete='current-password'></label></p><button id='login'>Log in</button>"
            "</form>"))
        resp.status_code = status
        return resp

    async def login_get(request: Request) -> HTTPResponse:
        return login_form()

    async def login_post(request: Request) -> HTTPResponse:
        body = (await request.body()).decode("utf-8", "replace")
        form = {k: v[0] for k, v in parse_qs(body).items()}

        def check() -> tuple[int, str] | None:
            with session_scope(eng, clock) as s:
                c = authenticate(s, form.get("name", ""), form.get("password", ""))
                return None if c is None else (c.id or 0, c.name)

        who = await run_in_threadpool(check)
        if who is None:
            log.info("dashboard login refused for %r", form.get("name", "")[:80])
            return login_form(REFUSED, 401)
        request.session.clear()
        request.session["uid"] = who[0]
        return RedirectResponse("/", status_code=303)

    async def logout(request: Request) -> HTTPResponse:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    def filters(request: Request) -> dict[str, str | None]:
        q = request.query_params
        return {k: (q.get(k) or None) for k in ("customer", "severity", "assignee")}

    def listing(request: Request) -> dict[str, Any]:
        f = filters(request)
        at = clock()
        with session_scope(eng, clock) as s:
            rows = open_tickets(s, pol, at, f["customer"], f["severity"], f["assignee"],
                                horizon=refresh_seconds * 2)
            choices = {
                "customer": [c.code for c in s.exec(select(Customer).order_by(
                    col(Customer.code)))],
                "severity": list(pol.severities),
                "assignee": [c.name for c in s.exec(select(Contact).where(
                    col(Contact.role).in_(STAFF)).order_by(col(Contact.name)))],
            }
        return {"tickets": rows, "choices": choices, "filters": f,
                "as_of": f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"}

    def index(request: Request) -> HTTPResponse:
        user = user_of(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        data = listing(request)
        return page("Open tickets", ticket_list_html(
            data["tickets"], data["filters"], data["choices"], refresh_seconds, data["as_of"]),
            user.name)

    def api_tickets(request: Request) -> HTTPResponse:
        if user_of(request) is None:
            return JSONResponse({"error": "log in first"}, status_code=401)
        data = listing(request)
        return JSONResponse({"tickets": data["tickets"], "as_of": data["as_of"]})

    def ticket_page(request: Request) -> HTTPResponse:
        user = user_of(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        number = ticket_store.parse_ticket_number(str(request.path_params["number"]))
        if number is None:
            return PlainTextResponse("no such ticket", status_code=404)
        at = clock()
        with session_scope(eng, clock) as s:
            t = s.get(Ticket, number)
            if t is None:
                return page("Not found", f"<p>No ticket #{number}.</p>", user.name)
            view = ticket_store.view(s, pol, t, at)
            clocks = clock_rows(s, pol, view, at, refresh_seconds * 2)
            items = timeline(s, pol, t, at)
            tz = view.zone.key
            head = (
                f"<p><b>{e(view.customer.code)}</b> · {t.severity} · {e(t.plan)} · {e(t.kind)} "
                f"· {e(t.status)} · {e(view.product.name if view.product else '—')} "
                f"{e(t.version_text or '')} · assignee {e(view.assignee.name if view.assignee else '—')}"  # noqa: E501
                f" · reported {local(t.reported_at, tz)} ({e(tz)})</p>"
                f"<p>{e(t.description)}</p>")
        clock_table = "<table id='clocks'><tr><th>target</th><th>limit</th><th>deadline</th>" \
            "<th>state</th><th>remaining</th></tr>" + "".join(
                f"<tr><td>{c['kind']}</td><td>{e(c['target'])}</td><td>{e(c['deadline'] or '—')}"
                f"</td><td>{e(c['status'])}</td><td class='clock {c['colour']}'>{e(c['text'])}"
                "</td></tr>" for c in clocks) + "</table>"
        rows = "".join(
            f"<tr class='{it['type']}{' future' if it['future'] else ''}'><td>{e(it['at'])}</td>"
            f"<td>{e(it['type'])}</td><td>{e(it['title'])}</td><td>{e(it['text'])}</td></tr>"
            for it in items)
        body = (head + clock_table + "<h2>Timeline</h2><table id='timeline'><tr><th>when ("
                f"{e(tz)})</th><th>type</th><th>what</th><th>detail</th></tr>{rows}</table>")
        refresh = f"<meta http-equiv='refresh' content='{refresh_seconds}'>"
        return page(f"Ticket #{number}: {t.summary}", body, user.name, refresh)

    def report_args(request: Request) -> tuple[Month, str | None] | str:
        q = request.query_params
        try:
            month = Month.parse(q["month"]) if q.get("month") else \
                Month.containing(clock(), "UTC")
        except ValueError as exc:
            return str(exc)
        return month, (q.get("customer") or None)

    def report_page(request: Request) -> HTTPResponse:
        user = user_of(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        args = report_args(request)
        if isinstance(args, str):
            return page("Monthly report", f"<p class='err'>{e(args)}</p>", user.name)
        month, code = args
        from .report_render import to_markdown

        with session_scope(eng, clock) as s:
            codes = [c.code for c in s.exec(select(Customer).order_by(col(Customer.code)))]
            if code and code not in codes:
                return page("Monthly report", f"<p class='err'>unknown customer {e(code)}</p>",
                            user.name)
            report = monthly_report(s, pol, month, code, clock())
        query = urlencode({"month": str(month), **({"customer": code} if code else {})})
        form = ("<form class='f' method='get' action='/report'>"
                f"<input name='month' value='{month}' size='8'> "
                f"<select name='customer'>{_options(codes, code, 'all customers')}</select> "
                "<button>Show</button></form>")
        body = (form + f"<p><img id='chart' src='/report.png?{e(query)}' alt='SLA chart' "
                "width='900'></p>" + md_to_html(to_markdown(report)))
        return page("Monthly report", body, user.name)

    def report_png(request: Request) -> HTTPResponse:
        if user_of(request) is None:
            return PlainTextResponse("log in first", status_code=401)
        args = report_args(request)
        if isinstance(args, str):
            return PlainTextResponse(args, status_code=400)
        import tempfile

        from .report_render import render_png

        with session_scope(eng, clock) as s:
            try:
                report = monthly_report(s, pol, args[0], args[1], clock())
            except ValueError as exc:
                return PlainTextResponse(str(exc), status_code=400)
        with tempfile.TemporaryDirectory() as tmp:
            data = render_png(report, Path(tmp) / "chart.png").read_bytes()
        return HTTPResponse(data, media_type="image/png")

    async def health(request: Request) -> HTTPResponse:
        return PlainTextResponse("ok")

    routes = [
        Route("/", index),
        Route("/login", login_get, methods=["GET"]),
        Route("/login", login_post, methods=["POST"]),
        Route("/logout", logout, methods=["POST", "GET"]),
        Route("/api/tickets", api_tickets),
        Route("/ticket/{number}", ticket_page),
        Route("/report", report_page),
        Route("/report.png", report_png),
        Route("/healthz", health),
    ]
    middleware = [Middleware(SessionMiddleware, secret_key=secret or secrets.token_hex(32),
                             session_cookie="destek_dashboard", max_age=12 * 3600,
                             same_site="strict", https_only=https_only)]
    return Starlette(routes=routes, middleware=middleware)


def _server_class() -> Any:
    import contextlib
    from collections.abc import Iterator

    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn without its own SIGINT/SIGTERM handlers: the runner owns the signals."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return Server


class DashboardService:
    """The dashboard inside ``destek run`` (uvicorn in the running loop)."""

    name = "dashboard"

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        import uvicorn

        _Server = _server_class()
        self.config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                                     lifespan="off")
        self.server = _Server(self.config)
        self._task: Any = None

    async def start(self) -> None:
        import asyncio
        import socket

        # Bind here so a busy port is one logged error, not uvicorn's sys.exit in a task:
        # the channels and the SLA scheduler matter more than the dashboard.
        try:
            sock = socket.create_server((self.config.host, self.config.port))
        except OSError as exc:
            log.error("dashboard not started: cannot listen on %s:%s (%s)",
                      self.config.host, self.config.port, exc)
            return
        self._task = asyncio.create_task(self.server.serve(sockets=[sock]))
        log.info("dashboard on %s", dashboard_url(self.config.host, self.config.port))

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task


DEMO_PASSWORD = "destek-demo"
DEMO_STAFF = ("Elif Şahin", "Deniz Yılmaz")


def demo_dashboard_lines(session: Session, cfg: Any) -> list[str]:
    """``destek demo``: give the demo manager and engineer the demo password; say where the
    dashboard is and how to log in."""
    names = []
    for name in DEMO_STAFF:
        contact = find_contact(session, name)
        if contact is not None and contact.role in STAFF:
            if not verify_password(DEMO_PASSWORD, contact.password_hash):
                contact.password_hash = hash_password(DEMO_PASSWORD)
                session.add(contact)
            names.append(name)
    if not names:
        return []
    port = cfg.dashboard_port or 8090
    return ["", f"Dashboard: {dashboard_url(cfg.http_host, port)} (served by `destek run`, "
                f"or alone by `destek dashboard --port {port}`)",
            f"  log in as {' or '.join(names)} with the password {DEMO_PASSWORD!r}"]


def dashboard_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://{shown}:{port}/"


__all__ = ["DashboardService", "TicketEvent", "authenticate", "create_app", "dashboard_url",
           "hash_password", "set_password", "verify_password"]
