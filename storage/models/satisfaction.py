"""The satisfaction survey of a closed ticket (issue #19 item 4): one per ticket."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from ..types import UTCDateTime
from .base import _stamp

# ``stage``: the question was sent (``asked``), the score came and the optional comment is
# awaited (``comment``), or the survey is over (``done``).
SURVEY_ASKED, SURVEY_COMMENT, SURVEY_DONE = "asked", "comment", "done"


class SurveyAnswer(SQLModel, table=True):
    """The contact's answer to "how satisfied are you?" about one closed ticket."""

    __tablename__ = "survey_answers"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", unique=True)
    contact_id: int = Field(foreign_key="contacts.id", index=True)
    channel: str = Field(max_length=16)
    stage: str = Field(default=SURVEY_ASKED, max_length=16)
    score: int | None = None  # 1..5, once answered
    comment: str | None = Field(default=None, sa_type=Text)
    asked_at: datetime = _stamp()
    at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)  # the score's
