"""The satisfaction survey of a closed ticket (issue #19 item 4), the same on every channel.

- When a ticket closes (``close N``, the auto-close, a merge), its contact is asked once, in
  their conversation and language, "how satisfied are you?" with buttons 1 to 5 (outbox key
  ``ticket:N:survey``: one question per ticket, whatever closes it again later).
- A pressed button (step :data:`SURVEY_STEP`, value ``N:SCORE``) answers; so does a typed
  number while the contact's latest question is open (the console has no buttons). A number
  outside 1..5 gets a clear message and changes nothing; a second answer is refused politely.
- Then one optional comment: the contact's next message within :data:`COMMENT_WINDOW` (or
  "skip"); a command, a button, "new" or a report in progress is not a comment.

Answers are stored on :class:`~storage.models.SurveyAnswer` and noted on the ticket's audit
trail; the monthly report and the dashboard read them (:mod:`storage.satisfaction`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from storage import tickets as store
from storage.models import Contact, SurveyAnswer, Ticket
from storage.models.satisfaction import SURVEY_ASKED, SURVEY_COMMENT, SURVEY_DONE

from . import conversation
from .customer_verbs import NEW_REPORT_WORDS
from .i18n import register, t
from .identity import Identity, Sender
from .notify import choices_payload, keys, tell_customer
from .text import shorten
from .types import Choice, Incoming, Reply

SURVEY_STEP = "survey"  # the button_step of the survey's buttons
SCORES = range(1, 6)
COMMENT_WINDOW = timedelta(hours=24)  # how long the next message is taken as the comment
TYPED_WINDOW = timedelta(days=30)  # how long a typed number answers the open question
COMMENT_CHARS = 2000
SKIP_WORDS = frozenset({"skip", "no", "none", "-", "geç", "gec", "hayır", "hayir", "yok"})
_NUMBER = re.compile(r"^[+-]?\d{1,6}$")
# Events on the ticket's audit trail.
SURVEY_ASKED_EVENT, SURVEY_SCORE_EVENT, SURVEY_COMMENT_EVENT = (
    "survey-asked", "survey-answer", "survey-comment")


def ask(session: Session, ticket: Ticket, now: datetime) -> SurveyAnswer | None:
    """Ask the ticket's contact the survey question, once per ticket (the caller closed the
    ticket and recorded it first). None when it was asked before or nobody can answer."""
    if ticket.id is None or session.exec(select(SurveyAnswer.id).where(
            SurveyAnswer.ticket_id == ticket.id)).first() is not None:
        return None
    contact = session.get(Contact, ticket.contact_id) if ticket.contact_id else None
    if contact is None or not contact.active:
        return None
    row = SurveyAnswer(ticket_id=ticket.id, contact_id=contact.id or 0, channel=ticket.channel,
                       asked_at=now)
    session.add(row)
    store.add_event(session, ticket, SURVEY_ASKED_EVENT, "", at=now)
    lang = ticket.language or "en"
    choices = [Choice(f"{ticket.id}:{n}", str(n)) for n in SCORES]
    tell_customer(session, ticket, keys.satisfaction_survey(ticket.id),
                  t("survey.ask", lang, n=ticket.id, summary=shorten(ticket.summary or "", 80)),
                  payload={**choices_payload(SURVEY_STEP, choices), "ticket": ticket.id})
    return row


def incoming(session: Session, who: Identity, msg: Incoming, sender: Sender,
             lang: str, now: datetime, on: Ticket | None = None) -> list[Reply] | None:
    """The customer's message as a survey answer or comment; None when it is neither (the
    dispatch goes on with it). ``on``: the ticket the platform ties the message to; a typed
    message tied to another ticket is that ticket's, and one that may be a pick ("which
    ticket?") or an answer the ticket waits for (P17, P13) is left to them."""
    if msg.button_step == SURVEY_STEP:
        return _pressed(session, who, (msg.text or "").strip(), lang, now)
    if msg.button_step is not None or msg.command or msg.files or sender.dialog is not None:
        return None
    text = (msg.text or "").strip()
    if not text or sender.held is not None:
        return None
    if on is None and conversation.ticket_awaiting(session, who, msg.channel) is not None:
        return None
    if _NUMBER.match(text):
        open_one = _latest(session, who, msg.channel, SURVEY_ASKED, now - TYPED_WINDOW,
                           col(SurveyAnswer.asked_at))
        if open_one is not None and (on is None or on.id == open_one.ticket_id):
            return _score(session, open_one, int(text), lang, now)
    waiting = _latest(session, who, msg.channel, SURVEY_COMMENT, now - COMMENT_WINDOW,
                      col(SurveyAnswer.at))
    if waiting is None or (on is not None and on.id != waiting.ticket_id):
        return None
    if text.lower() in NEW_REPORT_WORDS:
        waiting.stage = SURVEY_DONE  # they moved on: a new report is not a comment
        session.add(waiting)
        return None
    return [_comment(session, waiting, text, lang, now)]


def _pressed(session: Session, who: Identity, value: str, lang: str,
             now: datetime) -> list[Reply]:
    number, _, score = value.partition(":")
    row = session.exec(select(SurveyAnswer).where(
        SurveyAnswer.ticket_id == (int(number) if number.isdigit() else -1),
        SurveyAnswer.contact_id == who.contact.id)).first()
    if row is None:  # not this contact's survey (or a forged value): nothing to answer
        return [Reply(t("survey.unknown", lang))]
    if not _NUMBER.match(score):
        return [Reply(t("survey.range", lang, n=row.ticket_id))]
    return _score(session, row, int(score), lang, now)


def _score(session: Session, row: SurveyAnswer, score: int, lang: str,
           now: datetime) -> list[Reply]:
    if row.stage != SURVEY_ASKED:
        return [Reply(t("survey.already", lang, n=row.ticket_id, score=row.score))]
    if score not in SCORES:
        return [Reply(t("survey.range", lang, n=row.ticket_id))]
    row.score, row.at, row.stage = score, now, SURVEY_COMMENT
    session.add(row)
    ticket = session.get(Ticket, row.ticket_id)
    if ticket is not None:
        store.add_event(session, ticket, SURVEY_SCORE_EVENT, f"{score}/5",
                        actor=session.get(Contact, row.contact_id), at=now,
                        data={"score": score})
    return [Reply(t("survey.thanks_score", lang, n=row.ticket_id, score=score),
                  meta={"ticket": str(row.ticket_id)})]


def _comment(session: Session, row: SurveyAnswer, text: str, lang: str,
             now: datetime) -> Reply:
    row.stage = SURVEY_DONE
    session.add(row)
    if text.lower() in SKIP_WORDS:
        return Reply(t("survey.thanks", lang, n=row.ticket_id))
    row.comment = shorten(text, COMMENT_CHARS)
    ticket = session.get(Ticket, row.ticket_id)
    if ticket is not None:
        store.add_event(session, ticket, SURVEY_COMMENT_EVENT, row.comment,
                        actor=session.get(Contact, row.contact_id), at=now)
    return Reply(t("survey.thanks_comment", lang, n=row.ticket_id),
                 meta={"ticket": str(row.ticket_id)})


def _latest(session: Session, who: Identity, channel: str, stage: str, since: datetime,
            when: Any) -> SurveyAnswer | None:
    return session.exec(select(SurveyAnswer).where(
        SurveyAnswer.contact_id == who.contact.id, SurveyAnswer.channel == channel,
        SurveyAnswer.stage == stage, when >= since)
        .order_by(col(SurveyAnswer.id).desc())).first()


register({
    "survey.ask": {
        "en": "Ticket #{n} ({summary}) is closed. How satisfied are you with our support on "
              "it? Press (or type) a number from 1 (not at all) to 5 (very satisfied).",
        "tr": "#{n} numaralı kayıt ({summary}) kapatıldı. Bu kayıttaki desteğimizden ne kadar "
              "memnunsunuz? 1 (hiç) ile 5 (çok memnun) arasında bir sayıya basın (ya da yazın).",
    },
    "survey.thanks_score": {
        "en": "Thank you: {score}/5 for ticket #{n} is recorded. Anything to add? Write it in "
              "one message, or write skip.",
        "tr": "Teşekkürler: #{n} numaralı kayıt için {score}/5 kaydedildi. Eklemek istediğiniz "
              "bir şey var mı? Tek mesajda yazın ya da geç yazın.",
    },
    "survey.thanks_comment": {
        "en": "Thank you, your comment on ticket #{n} is recorded.",
        "tr": "Teşekkürler, #{n} numaralı kayıtla ilgili yorumunuz kaydedildi.",
    },
    "survey.thanks": {
        "en": "Thank you for your answer on ticket #{n}.",
        "tr": "#{n} numaralı kayıt için yanıtınıza teşekkür ederiz.",
    },
    "survey.already": {
        "en": "You have already answered for ticket #{n} ({score}/5), thank you: one answer "
              "per ticket is kept.",
        "tr": "#{n} numaralı kayıt için zaten yanıt verdiniz ({score}/5), teşekkürler: her "
              "kayıt için bir yanıt saklanır.",
    },
    "survey.range": {
        "en": "Please answer with a whole number from 1 (not at all satisfied) to 5 (very "
              "satisfied) for ticket #{n}.",
        "tr": "Lütfen #{n} numaralı kayıt için 1 (hiç memnun değilim) ile 5 (çok memnunum) "
              "arasında bir tam sayıyla yanıt verin.",
    },
    "survey.unknown": {
        "en": "That survey is not open for you any more.",
        "tr": "Bu anket artık sizin için açık değil.",
    },
})
