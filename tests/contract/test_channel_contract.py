"""The channel contract: one script of customer and engineer interactions, run through every
registered channel (drivers.DRIVERS) by its real adapter and client library against the fakes.

Every channel must store the same outcome and show the customer the same messages, modulo
rendering. ``test_channel_contract[CHANNEL]`` runs the script and checks each step's target
behaviour on that channel; its checks are collected, so one run reports every step that
fails, not only the first. ``test_every_channel_agrees`` then compares the channels' stored
outcomes (a normalised summary) and customer-visible messages (normalised text), step by step.

The script (customer Omar Haddad of Gulf Bank, English; engineer Can Öztürk), in phases; the
issue's items in brackets:

 1. an unknown platform user writes: refused, no dialog, no ticket [1];
 2. the customer files report A through the guided dialog, the choices pressed as buttons,
    without remote access: ticket #3 opens paused, waiting for remote access (P13) [2];
 3. ``status 3`` and ``list`` [3];
 4. the engineer's ``ack 3`` [4];
 5. a stray message in #3's conversation does not end the remote-access pause;
    ``access 3 AnyDesk 123 456`` does, and records how to connect [6];
 6. ``pending 3 QUESTION``; the customer's answer in #3's conversation ends that pause (P17)
    [5] (remote access comes first: a ticket waiting for it cannot also be made pending);
 6b. the conversation on #3 (issue #15): the customer's follow-up is on the ticket and
    relayed to the engineers; ``reply 3 TEXT`` reaches the customer with the engineer's name;
    ``note 3 TEXT`` does not; the engineer's ``status 3`` shows the whole conversation;
 7. ``workaround 3 ...`` and ``resolve 3 ...`` [8];
 8. ``plan Call Recorder 5.6 2026-12-10 22:00-02:00``: recorded, engineers told (P19) [7];
 9. report B (#4), its description delivered twice by the platform: one effect [9, 2];
10. ``access 4`` without details: the bot asks how to connect, and the customer's next message
    in #4's conversation is taken as the details [6];
11-13. (issue #19) report C (#5), like B: auto-assigned on opening (the contract's policy has
    automatic assignment on), its card says "possibly the same as #4"; ``link 5 3`` relates
    it to A; ``merge 5 into 4`` closes #5 pointing at #4 and tells the customer that #4
    carries their report.
14. issue #19: resolved #3 is reminded of its auto-close and closed by the scheduler's pass
    (the clock moved to each instant); the satisfaction survey's "4" is pressed (typed on the
    console) and a comment follows.

"In the ticket's conversation" is a reply in the ticket's thread on Slack, the next plain
message elsewhere. What a stray message does besides keeping the pause (a flat conversation
may start a new report, which the customer then cancels) is the channel's own: those steps are
checked but not compared, and take no time on the clock.

Time: the test clock (tests/conftest.py) is the only clock of every adapter and of the
delivery worker; each phase starts at a fixed instant and each compared step moves it 30 s, so
the same step happens at the same instant on every channel, and a channel that fails a step
does not shift the times of the next phases.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.jobs.auto_close import auto_close_pass
from handlers import ticket_updates as updates
from handlers.auto_close import REMINDED_EVENT, SYSTEM_ACTOR, schedule
from handlers.types import Routing
from handlers.i18n import t
from storage import tickets as store
from storage.directory import customer_calendar, find_contact
from storage.models import (
    Contact,
    Customer,
    DialogSession,
    OutboxMessage,
    PlannedWork,
    Product,
    SurveyAnswer,
    Ticket,
    TicketEvent,
    TicketPause,
)
from tests.conftest import Clock

from .drivers import CUSTOMER, ENGINEER, REDELIVERY, UNKNOWN_USERS, Driver, Seen, flatten

LANG = "en"  # the customer's and the engineer's language
CUSTOMER_ORG = "Gulf Bank PJSC"
STRAY = "We are still arranging the VPN for your engineers."
ACCESS_HOW = ("AnyDesk", "123", "456")
QUESTION = "Please send the storage log of the recorder."
ANSWER = "The storage log is on our FTP share, folder rec-12."
WORKAROUND = "Move branch 12 to the secondary storage pool."
RESOLUTION = "Storage quota raised and the pool rebalanced."
DETAILS = "TeamViewer 987 654 321"
FOLLOW_UP = "Now the recorder of branch 14 stopped too."
PUBLIC_REPLY = "Thanks, we see branch 14 as well and are on it."
NOTE = "Customer VPN drops every hour: check with their network team."
PLAN = ("Call Recorder", "5.6", "2026-12-10", "22:00-02:00")
NOT_SOLVED = "Not solved, continue"  # self-help: offered when known errors look similar
SURVEY_COMMENT = "Quick and clear, thank you."
PHASE = timedelta(minutes=15)
STEP = timedelta(seconds=30)


@dataclass(frozen=True)
class Answer:
    """One dialog answer: typed, or given by pressing the choice with that label."""

    field: str
    value: str
    press: bool = False
    twice: bool = False  # the platform delivers it twice (channels that redeliver)


@dataclass(frozen=True)
class Report:
    label: str
    answers: tuple[Answer, ...]
    expected: Mapping[str, Any]  # the stored ticket (product by name)


def _say(key: str, value: str, twice: bool = False) -> Answer:
    return Answer(key, value, twice=twice)


def _press(key: str, label: str) -> Answer:
    return Answer(key, label, press=True)


REPORT_A = Report("A", (
    _say("summary", "Recordings of branch twelve are lost"),
    _press("kind", "Product defect"),
    _press("product_id", "Call Recorder"),
    _say("version_text", "5.5"),
    _press("environment", "Production"),
    _say("description", "No recordings are stored for extensions 1200-1299 since Sunday."),
    _say("steps", "Search recordings for branch 12 in the web UI."),
    _say("error_text", "Storage quota exceeded (E-4012)"),
    _say("attachments", "none"),
    _say("attachments_missing_reason", "Logs are collected by the customer's IT."),
    _press("production_down", "No"),
    _press("workaround_available", "No"),
    _press("users_affected", "Many (more than 10)"),
    _press("severity", "S2 High"),
    _press("remote_access", "No"),
    _say("confirm", "confirm"),
), {
    "summary": "Recordings of branch twelve are lost", "product": "Call Recorder",
    "version_text": "5.5", "environment": "production",
    "description": "No recordings are stored for extensions 1200-1299 since Sunday.",
    "steps": "Search recordings for branch 12 in the web UI.",
    "error_text": "Storage quota exceeded (E-4012)",
    "attachments_missing_reason": "Logs are collected by the customer's IT.",
    "production_down": False, "workaround_available": False, "users_affected": "many",
    "severity": "S2", "proposed_severity": "S2", "severity_reason": None, "kind": "defect",
    "remote_access": False, "remote_access_how": None, "plan": "standard", "tier": 1,
    "language": "en", "status": "pending",
})

REPORT_B = Report("B", (
    _say("summary", "Speech Analytics shows no transcripts since the upgrade"),
    _press("kind", "Question"),
    _press("product_id", "Speech Analytics"),
    _say("version_text", "7.0"),
    _press("environment", "Test"),
    _say("description", "Transcripts of calls recorded since Monday's upgrade never appear.",
         twice=True),
    _say("steps", "Search any call of today in the analytics web UI."),
    _say("error_text", "none"),
    _say("attachments", "none"),
    _say("attachments_missing_reason", "The analytics server is in an isolated network."),
    _press("production_down", "Yes"),
    _press("workaround_available", "Yes"),
    _press("users_affected", "A few (2-10)"),
    _press("severity", "S3 Medium"),
    _press("remote_access", "No"),
    _say("confirm", "confirm"),
), {
    "summary": "Speech Analytics shows no transcripts since the upgrade",
    "product": "Speech Analytics", "version_text": "7.0", "environment": "test",
    "description": "Transcripts of calls recorded since Monday's upgrade never appear.",
    "steps": "Search any call of today in the analytics web UI.", "error_text": None,
    "attachments_missing_reason": "The analytics server is in an isolated network.",
    "production_down": True, "workaround_available": True, "users_affected": "few",
    "severity": "S3", "proposed_severity": "S3", "severity_reason": None, "kind": "question",
    "remote_access": False, "remote_access_how": None, "plan": "standard", "tier": 1,
    "language": "en", "status": "pending",
})
REPORT_C = Report("C", tuple(
    _say("summary", "No transcripts in Speech Analytics after the upgrade")
    if a.field == "summary" else
    _say("description", "Since the upgrade the analytics shows no transcripts at all.")
    if a.field == "description" else a
    for a in REPORT_B.answers), {
    **REPORT_B.expected, "summary": "No transcripts in Speech Analytics after the upgrade",
    "description": "Since the upgrade the analytics shows no transcripts at all.",
})
TICKET_FIELDS = ("summary", "version_text", "environment", "description", "steps",
                 "error_text", "attachments_missing_reason", "production_down",
                 "workaround_available", "users_affected", "severity", "proposed_severity",
                 "severity_reason", "kind", "remote_access", "remote_access_how", "plan", "tier",
                 "language", "status", "workaround_text", "resolution_text", "fix_version")


# -- one channel's run ----------------------------------------------------------------------


@dataclass
class StepRecord:
    name: str
    seen: list[Seen]
    compare: bool  # False: channel-specific by nature, checked but not compared
    first_event: int  # ticket events from this id on were written by this step (or later)
    actions: list[tuple[str, str]] = field(default_factory=list)  # what was typed or pressed
    engineer_saw: list[Seen] = field(default_factory=list)
    phase: str = ""


@dataclass
class RunRecord:
    """What the comparison reads: the stored outcome and the customer's messages by step."""

    summary: dict[str, Any]
    steps: list[tuple[str, list[tuple[str, tuple[str, ...]]], bool]]
    skipped: dict[str, str]
    failures: list[str]


def _utc(when: datetime | None) -> datetime | None:
    if when is None:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _mentions(seen: Iterable[Seen], number: int) -> bool:
    return any(re.search(rf"#{number}(?!\d)", s.plain) for s in seen)


def _asks_how_to_connect(text: str, number: int) -> bool:
    """The dialog's own question (ask.remote_access_how), or a question about ticket
    ``number`` that is neither the thanks nor an error."""
    if flatten(t("ask.remote_access_how", LANG)) in text:
        return True
    thanks = flatten(t("access.thanks", LANG, number=number))
    return ("?" in text and bool(re.search(rf"#{number}(?!\d)", text))
            and thanks not in text)


class ContractRun:
    """The script's state on one channel: soft checks, steps, the tickets it opened."""

    def __init__(self, driver: Driver, clock: Clock) -> None:
        assert driver.env is not None
        self.driver = driver
        self.env = driver.env
        self.clock = clock
        self.start = clock.now
        self.failures: list[str] = []
        self.skipped: dict[str, str] = {}
        self.steps: list[StepRecord] = []
        self.tickets: dict[str, int] = {}
        self._phase = "?"
        self._phases = 0
        self._step = "?"
        self._engineer_saw: list[Seen] = []  # the engineer's replies of the current step

    # structure -----------------------------------------------------------------------------

    @asynccontextmanager
    async def phase(self, name: str) -> AsyncIterator[None]:
        """A part of the script; if it cannot go on (a missing button, a timeout), that is one
        failure and the next phase still runs, at its own fixed instant."""
        self._phase, self._step, self._engineer_saw = name, "-", []
        self.clock.set(self.start + self._phases * PHASE)
        self._phases += 1
        try:
            yield
        except (AssertionError, TimeoutError, LookupError) as exc:
            self.fail(f"could not go on: {type(exc).__name__}: {exc}")

    async def step(self, name: str, action: Awaitable[list[Seen]], compare: bool = True,
                   ) -> list[Seen]:
        self._step = name
        if compare:  # a channel-specific step takes no time: the next ones are at the same
            self.clock.advance(seconds=STEP.total_seconds())  # instant on every channel
        first = self._max_event_id() + 1
        engineer_before = len(self.driver.engineer_messages())
        actions_before = len(self.driver.actions)
        self._engineer_saw = []
        seen = await action
        self._engineer_saw = self.driver.engineer_messages()[engineer_before:]
        self.steps.append(StepRecord(name, seen, compare, first,
                                     self.driver.actions[actions_before:],
                                     self._engineer_saw, self._phase))
        return seen

    def transcript(self) -> str:
        """The conversation as its people saw it, step by step: who typed or pressed what,
        then what the customer and the engineer were shown (written to test-artifacts)."""
        out = [f"# The channel-contract script on {self.driver.name}", ""]
        phase = None
        for r in self.steps:
            if r.phase != phase:
                phase = r.phase
                out += ["", f"## {phase}"]
            for who, what in r.actions:
                out.append(f"{who:>8} > {what}")
            for label, seen in (("customer", r.seen), ("engineer", r.engineer_saw)):
                for m in seen:
                    lines = m.text.splitlines() or [""]
                    out.append(f"{label:>8} < {lines[0]}")
                    out += [f"{'':>8}   {line}" for line in lines[1:]]
                    if m.choices:
                        out.append(f"{'':>8}   [" + "] [".join(m.choices) + "]")
        return "\n".join(out) + "\n"

    def skip(self, name: str, reason: str) -> None:
        self.skipped[name] = f"{self.driver.name} skips {name}: {reason}"

    # checks --------------------------------------------------------------------------------

    def fail(self, what: str) -> None:
        said = "; ".join(s.plain[:120] for s in self._engineer_saw)
        self.failures.append(f"[{self._phase} / {self._step}] {what}"
                             + (f" (the engineer was told: {said!r})" if said else ""))

    def engineer_saw(self) -> list[Seen]:
        """The engineer's replies of the current step."""
        return list(self._engineer_saw)

    def check(self, ok: bool, what: str, detail: Any = "") -> None:
        if not ok:
            self.fail(f"{what}" + (f" — got {detail!r}" if detail != "" else ""))

    def saw(self, seen: list[Seen], expected: str, what: str) -> None:
        want = flatten(expected)
        self.check(any(want in s.plain for s in seen), f"{what}: the customer should see "
                   f"{want[:160]!r}", [s.plain[:160] for s in seen])

    # the database --------------------------------------------------------------------------

    def session(self) -> Session:
        return Session(self.env.engine, expire_on_commit=False)

    def _max_event_id(self) -> int:
        with self.session() as s:
            return int(s.exec(select(func.max(TicketEvent.id))).one() or 0)

    def ticket(self, number: int) -> Ticket:
        with self.session() as s:
            ticket = s.get(Ticket, number)
            if ticket is None:
                raise LookupError(f"no ticket #{number} stored")
            return ticket

    def open_pause(self, number: int) -> TicketPause | None:
        with self.session() as s:
            return store.open_pause(s, number)

    def event_kinds(self, number: int) -> list[str]:
        with self.session() as s:
            return [e.kind for e in store.events(s, number)]

    def events(self, number: int, kind: str) -> list[TicketEvent]:
        with self.session() as s:
            return [e for e in store.events(s, number) if e.kind == kind]

    def count(self, model: Any) -> int:
        with self.session() as s:
            return len(list(s.exec(select(model))))

    def customer_tz(self) -> str:
        with self.session() as s:
            contact = find_contact(s, CUSTOMER)
            assert contact is not None and contact.customer_id is not None
            customer = s.get(Customer, contact.customer_id)
            assert customer is not None
            return customer_calendar(customer).tz

    # the stored outcome --------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """The stored outcome, without what is the channel's own (ids, chats, threads):
        the tickets the script opened (fields, events, pauses), planned work, engineers'
        notices of it and dialogs left. Events of channel-specific steps are left out."""
        bounds = sorted((r.first_event, r.compare) for r in self.steps)

        def compared(event_id: int) -> bool:
            flag = True
            for first, compare in bounds:
                if event_id >= first:
                    flag = compare
            return flag

        def offset(when: datetime | None) -> float | None:
            at = _utc(when)
            return None if at is None else (at - self.start).total_seconds()

        out: dict[str, Any] = {}
        with self.session() as s:
            for label, number in sorted(self.tickets.items()):
                ticket = s.get(Ticket, number)
                if ticket is None:
                    out[f"ticket {label}"] = None
                    continue
                product = s.get(Product, ticket.product_id) if ticket.product_id else None
                out[f"ticket {label}"] = {
                    "number": number,
                    **{f: getattr(ticket, f) for f in TICKET_FIELDS},
                    "product": product.name if product else None,
                    "responded_at": offset(ticket.responded_at),
                    "workaround_at": offset(ticket.workaround_at),
                    "resolved_at": offset(ticket.resolved_at),
                    "events": [(e.kind, e.actor, e.text) for e in store.events(s, number)
                               if compared(e.id or 0)],
                    "pauses": [(p.kind, p.reason, offset(p.started_at), offset(p.ended_at))
                               for p in store.pauses(s, number)],
                }
            products = {p.id: p.name for p in s.exec(select(Product))}
            out["planned work"] = [
                (products.get(w.product_id), w.version, w.day.isoformat(), w.window, w.status)
                for w in s.exec(select(PlannedWork).order_by(col(PlannedWork.id)))]
            notices = [m for m in s.exec(select(OutboxMessage))
                       if "planned_work" in json.loads(m.payload or "{}")]
            out["planned work notices to engineers"] = [(m.status, m.text) for m in notices]
            contact = find_contact(s, CUSTOMER)
            assert contact is not None
            out["dialogs left"] = len(list(s.exec(select(DialogSession).where(
                DialogSession.contact_id == contact.id))))
        return out

    def record(self) -> RunRecord:
        try:
            summary = self.summary()
        except Exception as exc:  # noqa: BLE001 - recorded; the failures say why
            summary = {"error": repr(exc)}
        return RunRecord(summary, [(r.name, [s.normal() for s in r.seen], r.compare)
                                   for r in self.steps], dict(self.skipped), list(self.failures))


# -- the script -------------------------------------------------------------------------------


async def file_report(run: ContractRun, report: Report) -> int | None:
    """Answer every step of the guided dialog; the number of the ticket it opened."""
    drv = run.driver
    tickets_before = run.count(Ticket)
    seen: list[Seen] = []
    for answer in report.answers:
        name = f"{report.label}.{answer.field}"
        if answer.press:
            seen = await run.step(name, drv.press(answer.value))
        elif answer.twice and drv.can(REDELIVERY):
            seen = await run.step(name, drv.customer_says(answer.value, twice=True))
            # One effect: the dialog moved on by one question, whatever the second delivery.
            asked = [s.plain for s in seen]
            run.check(asked.count(flatten(t("ask.steps", LANG))) == 1
                      and flatten(t("ask.error_text", LANG)) not in asked,
                      "a message delivered twice moves the dialog on once", asked)
        else:
            if answer.twice:
                run.skip(f"{name} delivered twice", drv.lacks[REDELIVERY])
            seen = await run.step(name, drv.customer_says(answer.value))
        if answer.field == "summary" and any(NOT_SOLVED in s.choices for s in seen):
            seen = await run.step(f"{report.label}.selfhelp", drv.press(NOT_SOLVED))
    head = t("opened", LANG, number="\0", severity="", severity_name="", plan="",
             tier="").split("\0")[0]
    confirmation = next((s.plain for s in seen if s.plain.startswith(head)), None)
    run.check(confirmation is not None, "the customer sees the ticket-opened confirmation",
              [s.plain[:120] for s in seen])
    if confirmation is None:
        return None
    number = int(re.match(r"\d+", confirmation[len(head):]).group())  # type: ignore[union-attr]
    run.tickets[report.label] = number
    exp = report.expected
    pol = run.env.policy
    run.saw(seen, t("opened", LANG, number=number, severity=exp["severity"],
                    severity_name=pol.severity_name(exp["severity"], LANG),
                    plan=getattr(pol.plans[exp["plan"]].name, LANG), tier=exp["tier"]),
            "the confirmation gives number, severity, plan and tier")
    run.saw(seen, t("note.remote_pending", LANG), "the confirmation says the clock waits (P13)")
    run.check(run.count(Ticket) == tickets_before + 1, "one ticket stored",
              run.count(Ticket) - tickets_before)
    ticket = run.ticket(number)
    with run.session() as s:
        product = s.get(Product, ticket.product_id) if ticket.product_id else None
        contact = s.get(Contact, ticket.contact_id)
        dialogs = len(list(s.exec(select(DialogSession))))
    stored = {**{f: getattr(ticket, f) for f in TICKET_FIELDS if f in exp},
              "product": product.name if product else None}
    run.check(stored == dict(exp), "the ticket stores the report",
              {k: v for k, v in stored.items() if exp.get(k) != v})
    run.check(ticket.channel == drv.platform, "the ticket remembers its channel",
              ticket.channel)
    run.check(contact is not None and contact.name == CUSTOMER, "the customer's ticket",
              contact.name if contact else None)
    pause = run.open_pause(number)
    run.check(pause is not None and pause.kind == "remote-access",
              "the ticket opens paused, waiting for remote access (P13)", pause)
    run.check(dialogs == 0, "the dialog is over", dialogs)
    return number


async def run_script(run: ContractRun) -> None:
    drv = run.driver
    pol = run.env.policy

    async with run.phase("1 unknown user"):
        before = run.count(Ticket)
        if drv.can(UNKNOWN_USERS):
            seen = await run.step("unknown", drv.unknown_user_writes("Hello, our recorder is down"))
            run.saw(seen, t("refuse.unknown", LANG), "refused with the not-registered message")
        else:
            run.skip("unknown", drv.lacks[UNKNOWN_USERS])
            run.check(await drv.unknown_refused_before_chat(),
                      "an unknown contact is refused before any message")
        run.check(run.count(DialogSession) == 0, "no dialog stored", run.count(DialogSession))
        run.check(run.count(Ticket) == before, "no ticket stored", run.count(Ticket) - before)

    async with run.phase("2 report A"):
        seen = await run.step("A.open", drv.open_chat())
        run.saw(seen, t("dialog.hello", LANG, name=CUSTOMER, customer=CUSTOMER_ORG), "greeted")
        run.saw(seen, t("ask.summary", LANG), "the dialog's first question")
        await file_report(run, REPORT_A)
    a = run.tickets.get("A", 3)

    async with run.phase("3 status and list"):
        seen = await run.step("A.status", drv.customer_command("status", str(a)))
        run.check(_mentions(seen, a), f"status {a} mentions #{a}", [s.plain for s in seen])
        seen = await run.step("A.list", drv.customer_command("list"))
        run.check(_mentions(seen, a), f"list mentions #{a}", [s.plain for s in seen])

    async with run.phase("4 ack"):
        seen = await run.step("A.ack", drv.engineer(f"ack {a}"))
        ticket = run.ticket(a)
        with run.session() as s:
            assignee = s.get(Contact, ticket.assignee_id) if ticket.assignee_id else None
        run.check(_utc(ticket.responded_at) == run.clock.now, "acknowledged: the response (P3)",
                  ticket.responded_at)
        run.check(assignee is not None and assignee.name == ENGINEER, "assigned to the engineer",
                  assignee.name if assignee else None)
        run.saw(seen, updates.response(a, ENGINEER, run.clock.now, run.customer_tz(),
                                       REPORT_A.expected["severity"], pol, LANG),
                "the customer is told who has the ticket")

    async with run.phase("5 remote access"):
        # A message in the ticket's conversation is no remote access: the pause stays (P13).
        seen = await run.step("A.stray", drv.customer_answers(a, STRAY), compare=False)
        pause = run.open_pause(a)
        ticket = run.ticket(a)
        run.check(pause is not None and pause.kind == "remote-access",
                  "a plain message does not end the remote-access pause", pause)
        run.check(not ticket.remote_access and ticket.status == "pending",
                  "a plain message does not give remote access",
                  (ticket.remote_access, ticket.status))
        if any(s.plain == flatten(t("ask.summary", LANG)) for s in seen):
            # On a flat conversation it started a new report: the customer drops it.
            await run.step("A.stray.cancel", drv.customer_says("cancel"), compare=False)
        seen = await run.step("A.access", drv.customer_command("access", str(a), *ACCESS_HOW))
        ticket = run.ticket(a)
        run.check(run.open_pause(a) is None, "access N HOW ends the remote-access pause",
                  run.open_pause(a))
        run.check(ticket.remote_access and ticket.remote_access_how == " ".join(ACCESS_HOW),
                  "remote access and how to connect are stored",
                  (ticket.remote_access, ticket.remote_access_how))
        run.saw(seen, t("access.thanks", LANG, number=a), "the customer is thanked")

    async with run.phase("6 pending and the answer"):
        seen = await run.step("A.pending", drv.engineer(f"pending {a} {QUESTION}"))
        pause = run.open_pause(a)
        run.check(run.ticket(a).status == "pending" and pause is not None
                  and pause.kind == "customer", "pending: waiting for the customer (P17)", pause)
        run.saw(seen, updates.pending(a, QUESTION, LANG), "the customer receives the question")
        seen = await run.step("A.answer", drv.customer_answers(a, ANSWER))
        ticket = run.ticket(a)
        run.check(run.open_pause(a) is None, "the answer ends the pause", run.open_pause(a))
        run.check(ticket.status == "open", "the ticket is open again", ticket.status)
        replies = [e.text for e in run.events(a, "customer-reply")]
        run.check(ANSWER in replies, "the answer is on the ticket's events", replies)
        told = (t("waiting.answered", LANG, number=a), updates.resumed(a, LANG, True))
        run.check(any(flatten(w) in s.plain for w in told for s in seen),
                  "the customer is told the answer was added", [s.plain for s in seen])

    async with run.phase("6b the conversation"):
        # A follow-up on the open ticket: on the ticket, relayed to the engineers (on a flat
        # conversation with two tickets open the customer is asked which: the channel's own).
        await run.step("A.follow_up", drv.customer_answers(a, FOLLOW_UP), compare=False)
        run.check(FOLLOW_UP in [e.text for e in run.events(a, "follow-up")],
                  "the follow-up is on the ticket", run.event_kinds(a))
        with run.session() as s:
            relayed = [m for m in s.exec(select(OutboxMessage).where(
                OutboxMessage.ticket_id == a)) if FOLLOW_UP in m.text]
        run.check(bool(relayed) and all(m.status == "sent" for m in relayed),
                  "the follow-up reaches the engineers", [(m.target, m.status) for m in relayed])
        seen = await run.step("A.reply", drv.engineer(f"reply {a} {PUBLIC_REPLY}"))
        run.saw(seen, t("reply.to_customer", LANG, n=a, name=ENGINEER, text=PUBLIC_REPLY),
                "the engineer's reply reaches the customer with the engineer's name")
        seen = await run.step("A.note", drv.engineer(f"note {a} {NOTE}"))
        run.check(not any(NOTE in s.plain for s in seen), "an internal note is not sent",
                  [s.plain for s in seen])
        run.check(NOTE in [e.text for e in run.events(a, "note")], "the note is on the ticket",
                  run.event_kinds(a))
        seen = await run.step("A.report", drv.engineer(f"status {a}"))
        said = "\n".join(s.plain for s in run.engineer_saw())
        run.check(all(flatten(x) in said for x in (FOLLOW_UP, PUBLIC_REPLY, NOTE, ANSWER)),
                  "the engineer reads the whole conversation in status N", said[-600:])
        run.check(not seen, "the customer sees nothing of status N", [s.plain for s in seen])

    async with run.phase("7 workaround and resolve"):
        seen = await run.step("A.workaround", drv.engineer(f"workaround {a} {WORKAROUND}"))
        ticket = run.ticket(a)
        run.check(ticket.workaround_text == WORKAROUND
                  and _utc(ticket.workaround_at) == run.clock.now, "the workaround is stored",
                  (ticket.workaround_text, ticket.workaround_at))
        run.saw(seen, updates.workaround(a, WORKAROUND, LANG), "the customer gets the workaround")
        seen = await run.step("A.resolve", drv.engineer(f"resolve {a} {RESOLUTION}"))
        ticket = run.ticket(a)
        run.check(ticket.status == "resolved" and ticket.resolution_text == RESOLUTION
                  and _utc(ticket.resolved_at) == run.clock.now, "the resolution is stored",
                  (ticket.status, ticket.resolution_text))
        run.saw(seen, updates.resolved(a, RESOLUTION, None, LANG), "the customer is told")

    async with run.phase("8 planned work"):
        seen = await run.step("plan", drv.customer_command("plan", *PLAN))
        with run.session() as s:
            works = list(s.exec(select(PlannedWork)))
            notices = [m for m in s.exec(select(OutboxMessage))
                       if "planned_work" in json.loads(m.payload or "{}")]
            product = s.get(Product, works[0].product_id) if works else None
        run.check(len(works) == 1 and product is not None and (
            product.name, works[0].version, works[0].day.isoformat(), works[0].window)
            == PLAN, "the planned work is stored (P19)", works)
        run.check(len(notices) >= 1 and all(m.status == "sent" for m in notices),
                  "the engineers are told", [(m.channel, m.status) for m in notices])
        if works:
            run.saw(seen, t("plan.accepted", LANG, id=works[0].id, product=PLAN[0],
                            version=PLAN[1], day=PLAN[2], window=PLAN[3], tz=run.customer_tz()),
                    "the customer is told it is recorded")

    async with run.phase("9 report B"):
        # "new" typed as a message: with a ticket open, plain text would be a follow-up on it.
        seen = await run.step("B.open", drv.customer_says("new"))
        run.saw(seen, t("ask.summary", LANG), "a new report starts")
        await file_report(run, REPORT_B)
    b = run.tickets.get("B", 4)

    async with run.phase("10 access without details"):
        seen = await run.step("B.access", drv.customer_command("access", str(b)))
        pause = run.open_pause(b)
        ticket = run.ticket(b)
        run.check(pause is not None and pause.kind == "remote-access" and not ticket.remote_access,
                  "access N without details does not end the pause yet", pause)
        run.check(any(_asks_how_to_connect(s.plain, b) for s in seen),
                  "access N without details: the bot asks how to connect",
                  [s.plain for s in seen])
        seen = await run.step("B.details", drv.customer_answers(b, DETAILS))
        ticket = run.ticket(b)
        run.check(run.open_pause(b) is None, "the details end the remote-access pause",
                  run.open_pause(b))
        run.check(ticket.remote_access and ticket.remote_access_how == DETAILS,
                  "the next message is taken as how to connect",
                  (ticket.remote_access, ticket.remote_access_how))
        run.saw(seen, t("access.thanks", LANG, number=b), "the customer is thanked")
        if any(s.plain == flatten(t("ask.summary", LANG)) for s in seen):
            await run.step("B.details.cancel", drv.customer_says("cancel"), compare=False)

    await related_reports(run, a, b)
    async with run.phase("14 auto-close and the survey"):
        await auto_close_and_survey(run, a)


async def related_reports(run: ContractRun, a: int, b: int) -> None:
    """Phase 11 (issue #19): an auto-assigned report, the card's related tickets, link, merge."""
    drv = run.driver
    async with run.phase("11 report C"):
        seen = await run.step("C.open", drv.customer_says("new"))
        run.saw(seen, t("ask.summary", LANG), "a new report starts")
        await file_report(run, REPORT_C)
    c = run.tickets.get("C", b + 1)

    async with run.phase("12 auto-assigned, related"):
        ticket = run.ticket(c)
        assigned = run.events(c, "assigned")
        run.check(ticket.assignee_id is not None and len(assigned) == 1
                  and assigned[0].actor == "system (auto)",
                  "the new report is assigned automatically", [e.actor for e in assigned])
        run.check(ticket.responded_at is None, "auto-assignment is not the response (P3)",
                  ticket.responded_at)
        with run.session() as s:
            cards = [m for m in s.exec(select(OutboxMessage).where(
                OutboxMessage.ticket_id == c)) if m.key.startswith(f"ticket:{c}:opened:")]
            assignee = s.get(Contact, ticket.assignee_id) if ticket.assignee_id else None
        run.check(bool(cards) and all(f"Possibly the same as #{b} " in m.text
                                      and m.status == "sent" for m in cards),
                  f"the engineers' card says #{c} is possibly the same as #{b}",
                  [(m.status, m.text[-200:]) for m in cards])
        fake = getattr(drv, "fake", None)  # Slack's: the card as Slack got it, in its blocks
        if fake is not None and hasattr(fake, "calls_to"):
            posted = [json.dumps(c.args, ensure_ascii=False)
                      for c in fake.calls_to("chat.postMessage") if "blocks" in c.args]
            run.check(any(f"Possibly the same as #{b} " in p and f"New ticket #{c} " in p
                          for p in posted), "the Slack card shows the related ticket",
                      len(posted))
        run.check(assignee is not None and bool(cards) and all(
            f"Assigned automatically to {assignee.name}" in m.text for m in cards),
            "the card names the assignee", [m.text[-120:] for m in cards])
        seen = await run.step("C.link", drv.engineer(f"link {c} {a}"))
        said = " ".join(x.plain for x in run.engineer_saw())
        run.check(f"#{c} and #{a} are related" in said, "link N M relates two tickets", said)
        run.check(not seen, "the customer sees nothing of link N M", [x.plain for x in seen])

    async with run.phase("13 merge"):
        seen = await run.step("C.merge", drv.engineer(f"merge {c} into {b}"))
        ticket = run.ticket(c)
        run.check(ticket.status == "closed" and ticket.resolution_text == f"merged into #{b}"
                  and run.open_pause(c) is None, f"#{c} is closed, pointing at #{b}",
                  (ticket.status, ticket.resolution_text))
        run.check(bool(run.events(b, "merged")), f"#{b}'s trail has the merge",
                  run.event_kinds(b))
        run.saw(seen, t("merge.to_customer", LANG, n=c, m=b),
                f"the customer is told #{b} carries their report")


async def _auto_close_pass(run: ContractRun, at: datetime) -> list[Seen]:
    """The scheduler's auto-close pass at ``at`` (the clock moved there), then the delivery."""
    run.clock.set(at)
    await asyncio.to_thread(auto_close_pass, run.env.engine, run.env.policy, Routing(), at)
    return await run.driver.settled()


async def auto_close_and_survey(run: ContractRun, a: int) -> None:
    """Phase 14 (issue #19 items 3-4): the reminder, the close, the survey and its comment."""
    drv = run.driver
    ticket = run.ticket(a)
    with run.session() as s:
        customer = s.get(Customer, ticket.customer_id)
        assert customer is not None and ticket.resolved_at is not None
        plan = schedule(run.env.policy, customer_calendar(customer), _utc(ticket.resolved_at)
                        or ticket.resolved_at)
    assert plan.remind_at is not None
    seen = await run.step("A.auto_close.before", _auto_close_pass(
        run, plan.remind_at - timedelta(minutes=1)))
    run.check(not seen and run.ticket(a).status == "resolved", "nothing before the reminder",
              [x.plain for x in seen])
    seen = await run.step("A.auto_close.remind", _auto_close_pass(run, plan.remind_at))
    reminded = run.events(a, REMINDED_EVENT)
    run.check(len(reminded) == 1, "the reminder is on the ticket's trail", run.event_kinds(a))
    if reminded:
        run.saw(seen, t("autoclose.reminder", LANG, n=a, when=reminded[0].text,
                        tz=run.customer_tz()), "the customer is reminded in their language")
    seen = await run.step("A.auto_close.close", _auto_close_pass(run, plan.close_at))
    ticket = run.ticket(a)
    closed = run.events(a, "closed")
    run.check(ticket.status == "closed" and _utc(ticket.closed_at) == plan.close_at,
              "closed by the pass at its instant", (ticket.status, ticket.closed_at))
    run.check([e.actor for e in closed] == [SYSTEM_ACTOR], "closed by the system",
              [e.actor for e in closed])
    run.saw(seen, updates.closed(a, LANG), "the customer is told it is closed")
    asked = [x for x in seen if x.choices]
    run.check(len(asked) == 1 and tuple(flatten(c) for c in asked[0].choices)
              == ("1", "2", "3", "4", "5"), "the survey comes with buttons 1..5",
              [(x.plain, x.choices) for x in seen])
    seen = await run.step("A.survey.score", drv.press("4"))
    with run.session() as s:
        survey = s.exec(select(SurveyAnswer).where(SurveyAnswer.ticket_id == a)).first()
    run.check(survey is not None and survey.score == 4, "the score is stored on the ticket",
              survey)
    run.saw(seen, t("survey.thanks_score", LANG, n=a, score=4), "thanked, asked for a comment")
    seen = await run.step("A.survey.comment", drv.customer_says(SURVEY_COMMENT))
    with run.session() as s:
        survey = s.exec(select(SurveyAnswer).where(SurveyAnswer.ticket_id == a)).first()
    run.check(survey is not None and survey.comment == SURVEY_COMMENT and survey.stage == "done",
              "the comment is stored", survey)
    run.saw(seen, t("survey.thanks_comment", LANG, n=a), "thanked for the comment")


async def test_channel_contract(driver: Driver, clock: Clock,
                                contract_runs: dict[str, RunRecord]) -> None:
    run = ContractRun(driver, clock)
    try:
        await run_script(run)
    finally:
        contract_runs[driver.name] = run.record()
        _write_artifact(f"transcript-{driver.name}.txt", run.transcript())
    notes = "".join(f"\n  (skipped) {why}" for why in run.skipped.values())
    if run.failures:
        pytest.fail(f"{driver.name}: {len(run.failures)} contract check(s) failed:\n  "
                    + "\n  ".join(run.failures) + notes, pytrace=False)


def _write_artifact(name: str, text: str) -> None:
    """test-artifacts/NAME (a read-only checkout still runs the suite)."""
    folder = Path(__file__).resolve().parents[2] / "test-artifacts"
    try:
        folder.mkdir(exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    except OSError:
        pass


# -- across channels ------------------------------------------------------------------------


def _flat(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{path}.{k}" if path else str(k)))
        return out
    return {path: value}


def _short(value: Any, n: int = 700) -> str:
    text = repr(value)
    return text if len(text) <= n else text[: n - 1] + "…"


def _versus(ref_name: str, a: Any, name: str, b: Any) -> str:
    """Two values side by side; for lists, from their first difference on."""
    if isinstance(a, list) and isinstance(b, list):
        i = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                 min(len(a), len(b)))
        return (f"(from item {i}; {len(a)} vs {len(b)} items)\n"
                f"      {ref_name}: {_short(a[i:i + 3])}\n      {name}: {_short(b[i:i + 3])}")
    return f"\n      {ref_name}: {_short(a)}\n      {name}: {_short(b)}"


def differences(ref_name: str, ref: RunRecord, name: str, other: RunRecord) -> list[str]:
    """Where ``other`` stored or showed something else than ``ref``."""
    out: list[str] = []
    a, b = _flat(ref.summary), _flat(other.summary)
    for key in sorted(set(a) | set(b), key=lambda k: (list(a).index(k) if k in a else 1 << 30)):
        if a.get(key) != b.get(key):
            out.append(f"stored {key} " + _versus(ref_name, a.get(key), name, b.get(key)))
    theirs = {step: (msgs, compare) for step, msgs, compare in other.steps}
    mine = {step for step, _, _ in ref.steps}
    for step, msgs, compare in ref.steps:
        if step not in theirs:
            if step not in other.skipped and compare:
                out.append(f"step {step}: not run on {name}")
            continue
        their_msgs, their_compare = theirs[step]
        if compare and their_compare and msgs != their_msgs:
            out.append(f"messages of {step} " + _versus(ref_name, msgs, name, their_msgs))
    for step, _, compare in other.steps:
        if step not in mine and compare and step not in ref.skipped:
            out.append(f"step {step}: not run on {ref_name}")
    return out


def test_every_channel_agrees(contract_runs: dict[str, RunRecord]) -> None:
    """The same stored outcome and the same customer-visible messages on every channel, each
    compared with the first registered channel that ran (steps a channel skips, saying why,
    and channel-specific steps are not compared)."""
    from .drivers import DRIVERS

    names = [d.name for d in DRIVERS if d.name in contract_runs]
    if len(names) < 2:
        pytest.skip("needs the runs of at least two channels (run the whole module)")
    ref = contract_runs[names[0]]
    problems: list[str] = []
    for name in names[1:]:
        found = differences(names[0], ref, name, contract_runs[name])
        problems += [f"{name} vs {names[0]}: {p}" for p in found]
    if problems:
        pytest.fail(f"{len(problems)} difference(s) between channels:\n" + "\n".join(problems),
                    pytrace=False)
