"""The satisfaction survey (issue #19 item 4) on SQLite and PostgreSQL: asked once when a ticket
closes, answered by a button or a typed number, then an optional comment; bad and second answers
refused; CSAT per customer, plan and engineer in the monthly report (md, csv) and for the
dashboard; the survey's buttons rendered by each channel's real sender."""

from __future__ import annotations

import csv
import shutil
import subprocess
import io
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from bot.channels.console.sender import ConsoleSender
from bot.channels.outbound import Outgoing
from bot.channels.slack import blocks as slack_blocks
from bot.channels.slack.sender import SlackSender
from bot.channels.telegram.sender import _telegram_buttons
from bot.report_render import to_csv, to_markdown
from handlers.reports import monthly_report, summary_lines
from handlers.satisfaction import SURVEY_STEP
from sla.attainment import Month
from sla.satisfaction import SurveyFact, csat_rows
from storage.db import session_scope
from storage.models import OutboxMessage, SurveyAnswer, Ticket
from storage.satisfaction import csat_figures

from .test_conversation import engineer, kinds, report, rows
from .test_intake_dialog import AYSE, OMAR, Driver, text_of, world  # noqa: F401


def _closed(world: Driver, user: str = AYSE, summary: str | None = None) -> Ticket:
    ticket = report(world, user, summary) if summary else report(world, user)
    engineer(world, f"ack {ticket.id}")
    engineer(world, f"close {ticket.id}")
    return ticket


def _survey(world: Driver, ticket: Ticket) -> SurveyAnswer | None:
    with Session(world.engine) as s:
        return s.exec(select(SurveyAnswer).where(SurveyAnswer.ticket_id == ticket.id)).first()


def _survey_rows(world: Driver, ticket: Ticket) -> list[OutboxMessage]:
    return [m for m in rows(world, ticket) if m.key == f"ticket:{ticket.id}:survey"]


def test_closing_asks_once_with_five_buttons_in_the_customers_language(world: Driver) -> None:
    ticket = _closed(world)
    [msg] = _survey_rows(world, ticket)
    assert msg.target == AYSE and "memnun" in msg.text  # Turkish, in her conversation
    out = Outgoing.of(msg)
    step, choices = out.choices
    assert step == SURVEY_STEP
    assert [(c.value, c.label) for c in choices] == [(f"{ticket.id}:{n}", str(n))
                                                     for n in range(1, 6)]
    # Reopened and closed again: still one question for the ticket.
    engineer(world, f"reopen {ticket.id} yine oldu")
    engineer(world, f"close {ticket.id}")
    assert len(_survey_rows(world, ticket)) == 1
    assert [k for k, _ in kinds(world, ticket)].count("survey-asked") == 1


def test_a_pressed_score_then_a_comment_are_stored(world: Driver) -> None:
    ticket = _closed(world)
    replies = world.send(AYSE, f"{ticket.id}:4", button_step=SURVEY_STEP)
    assert "4/5" in text_of(replies) and "geç" in text_of(replies)  # asks for a comment
    survey = _survey(world, ticket)
    assert survey is not None and survey.score == 4 and survey.at == world.clock.now
    replies = world.send(AYSE, "Hızlı ve net bir çözümdü")
    assert "yorumunuz kaydedildi" in text_of(replies)
    survey = _survey(world, ticket)
    assert survey is not None and survey.comment == "Hızlı ve net bir çözümdü"
    assert survey.stage == "done"
    assert ("survey-answer", "4/5") in kinds(world, ticket)
    assert ("survey-comment", "Hızlı ve net bir çözümdü") in kinds(world, ticket)
    # A second answer is refused politely and changes nothing.
    replies = world.send(AYSE, f"{ticket.id}:1", button_step=SURVEY_STEP)
    assert "zaten yanıt verdiniz" in text_of(replies)
    again = _survey(world, ticket)
    assert again is not None and again.score == 4
    # The survey is over: the next message is no comment (a new report starts).
    world.send(AYSE, "Merhaba")
    again = _survey(world, ticket)
    assert again is not None and again.comment == "Hızlı ve net bir çözümdü"


def test_typed_numbers_answer_and_a_bad_score_is_refused(world: Driver) -> None:
    ticket = _closed(world)
    replies = world.send(AYSE, "7")
    assert "1 (hiç memnun değilim) ile 5" in text_of(replies)
    survey = _survey(world, ticket)
    assert survey is not None and survey.score is None and survey.stage == "asked"
    replies = world.send(AYSE, f"{ticket.id}:9", button_step=SURVEY_STEP)  # a forged button
    assert "1 (hiç memnun değilim) ile 5" in text_of(replies)
    world.send(AYSE, "5")
    world.send(AYSE, "geç")  # skip the comment
    survey = _survey(world, ticket)
    assert survey is not None and (survey.score, survey.comment, survey.stage) == (5, None, "done")


def test_another_contacts_survey_cannot_be_answered(world: Driver) -> None:
    ticket = _closed(world)
    replies = world.send(OMAR, f"{ticket.id}:1", button_step=SURVEY_STEP)
    assert "not open for you" in text_of(replies)
    survey = _survey(world, ticket)
    assert survey is not None and survey.score is None


def test_a_comment_window_closes_and_new_starts_a_report(world: Driver) -> None:
    ticket = _closed(world)
    world.send(AYSE, "3")
    world.clock.advance(hours=25)
    world.send(AYSE, "Yeni bir konu")  # a day later: not a comment any more
    survey = _survey(world, ticket)
    assert survey is not None and survey.comment is None and survey.stage == "comment"


def test_csat_per_customer_plan_and_engineer_in_the_report(world: Driver) -> None:
    a = _closed(world)
    b = _closed(world, summary="İkinci sorun")
    world.send(AYSE, f"{a.id}:5", button_step=SURVEY_STEP)
    world.send(AYSE, "skip")
    world.send(AYSE, f"{b.id}:2", button_step=SURVEY_STEP)
    world.send(AYSE, "skip")
    now = world.clock.now
    with session_scope(world.engine) as s:
        rep = monthly_report(s, world.cfg.policy, Month(now.year, now.month), None, now)
        figures = csat_figures(s, now - timedelta(days=1), now + timedelta(days=1))
    by = {(r.group, r.key): r for r in rep.csat}
    assert by[("customer", "ACME")].answers == 2 and by[("customer", "ACME")].csat == 50.0
    assert by[("plan", a.plan)].average == 3.5
    assert by[("engineer", "Deniz Yılmaz")].satisfied == 1
    assert by[("all", "all")].answers == 2
    assert "Memnuniyet: CSAT 50.0% (2 yanıt, ortalama 3.50/5)" in summary_lines(rep, "tr")
    md = to_markdown(rep)
    assert "## Customer satisfaction (2 answers)" in md
    assert "| engineer | Deniz Yılmaz | 2 | 1 | 50.0% | 3.50 |" in md
    table = list(csv.DictReader(io.StringIO(to_csv(rep))))
    csat = [r for r in table if r["section"] == "csat"]
    assert {(r["group"], r["text"], r["csat_pct"]) for r in csat} >= {
        ("customer", "ACME", "50.00"), ("all", "all", "50.00")}
    assert [r.key for r in figures.by_customer] == ["ACME"]
    assert figures.overall is not None and figures.overall.answers == 2
    assert [r.key for r in figures.by_engineer] == ["Deniz Yılmaz"]
    # The dashboard's report page and the typeset PDF show the same figures.
    from bot.report_pdf import render_pdf
    from bot.web.pages import monthly_context

    page = monthly_context(rep, "Europe/Istanbul", "")
    assert ["engineer", "Deniz Yılmaz", 2, 1, "50.0%", "3.50"] in page["csat"]
    pdf = render_pdf(rep, world.cfg.attachments_dir.parent / "csat.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                              text=True, check=True).stdout
        assert "Customer satisfaction" in text and "Deniz Yılmaz" in text and "50 %" in text


def test_csat_rows_are_pure_arithmetic() -> None:
    at = datetime(2026, 11, 2, tzinfo=UTC)
    facts = [SurveyFact(1, "ACME", "premium", "Can", 5, at),
             SurveyFact(2, "ACME", "standard", "unassigned", 3, at),
             SurveyFact(3, "GULF", "premium", "Can", 4, at)]
    rows_ = {(r.group, r.key): (r.answers, r.satisfied, round(r.average, 2))
             for r in csat_rows(facts)}
    assert rows_ == {("customer", "ACME"): (2, 1, 4.0), ("customer", "GULF"): (1, 1, 4.0),
                     ("plan", "premium"): (2, 2, 4.5), ("plan", "standard"): (1, 0, 3.0),
                     ("engineer", "Can"): (2, 2, 4.5), ("engineer", "unassigned"): (1, 0, 3.0),
                     ("all", "all"): (3, 2, 4.0)}
    assert csat_rows([]) == []


def _survey_outgoing() -> Outgoing:
    return Outgoing(1, "ticket:12:survey", "slack", "D0GULF01", None, "How satisfied? <&>",
                    False, payload={"choices": [[f"12:{n}", str(n)] for n in range(1, 6)],
                                    "step": SURVEY_STEP, "ticket": 12})


def test_the_survey_buttons_on_slack_telegram_and_the_console(tmp_path) -> None:  # type: ignore[no-untyped-def]
    msg = _survey_outgoing()
    blocks = SlackSender._blocks(msg, "How satisfied? &lt;&amp;&gt;")
    assert blocks is not None and blocks[0]["text"]["text"] == "How satisfied? &lt;&amp;&gt;"
    buttons = blocks[1]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["1", "2", "3", "4", "5"]
    assert all(b["action_id"].startswith(slack_blocks.CHOICE_ACTION) for b in buttons)
    assert slack_blocks.parse_choice(buttons[3]["value"]) == (SURVEY_STEP, "12:4")
    markup = _telegram_buttons(msg)
    data = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert data == [f"survey|12:{n}" for n in range(1, 6)]
    import asyncio

    log = tmp_path / "console.log"
    asyncio.run(ConsoleSender(log).send(msg))
    assert log.read_text(encoding="utf-8").strip() == (
        "[D0GULF01] How satisfied? <&> |   1) 1 |   2) 2 |   3) 3 |   4) 4 |   5) 5")


def test_a_typed_number_that_picks_a_held_message_is_no_score(world: Driver) -> None:
    """With the survey open, "1" picking the ticket of a held message stays a pick."""
    closed = _closed(world)
    first = report(world, summary="Birinci açık sorun")
    report(world, summary="İkinci açık sorun")
    replies = world.send(AYSE, "Bu mesaj hangi kayda?")
    assert replies[-1].meta.get("step") == "pick-ticket"
    world.send(AYSE, "2")  # the second button: the older open ticket
    survey = _survey(world, closed)
    assert survey is not None and survey.score is None
    assert ("follow-up", "Bu mesaj hangi kayda?") in kinds(world, first)


def test_an_answer_a_ticket_waits_for_is_no_score(world: Driver) -> None:
    closed = _closed(world)
    waiting = report(world, summary="Bekleyen sorun")
    engineer(world, f"pending {waiting.id} Kaç kullanıcı etkileniyor?")
    world.send(AYSE, "3")
    survey = _survey(world, closed)
    assert survey is not None and survey.score is None
    assert ("customer-reply", "3") in kinds(world, waiting)
