"""Reading a command's arguments: the context a verb runs in, the error that refuses it, each
verb's usage line, and the helpers that turn words into a ticket number, a text or a ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from sla import Policy
from storage import tickets as store
from storage.models import Contact, Ticket, TicketStatus

from ..i18n import register
from ..text import strip_nul
from ..types import Routing
from .staff import STAFF_ROLES

if TYPE_CHECKING:
    from ..reports import ChartMaker

# Each verb's usage line, per language: the verb and the typed keywords (mine, tier2, swap,
# until, --fix-version, …) stay as typed; only the placeholder words are translated.
USAGE = {
    "ack": "ack N",
    "assign": "assign N @engineer",
    "sev": "sev N S1|S2|S3|S4 reason",
    "pending": "pending N what-is-missing",
    "resume": "resume N",
    "workaround": "workaround N text",
    "resolve": "resolve N text [--fix-version V]",
    "close": "close N",
    "reopen": "reopen N reason",
    "escalate": "escalate N tier2|tier3 reason",
    "note": "note N text",
    "reply": "reply N text",
    "exception": "exception N text",
    "status": "status N",
    "list": "list [mine|breaching|customer CODE]",
    "suggest": "suggest N",
    "link": "link N KB-ID | link N M",
    "kb": "kb add N [KB-ID] | kb edit KB-ID FIELD TEXT | kb publish KB-ID",
    "report": "report [CUSTOMER] [YYYY-MM]",
    "planned": "planned",
    "oncall": "oncall [ISO] · oncall swap @engineer until ISO",
    "help": "help",
    "merge": "merge N into M",
    "away": "away [@engineer]",
    "back": "back [@engineer]",
}
USAGE_TR = {
    "ack": "ack N",
    "assign": "assign N @mühendis",
    "sev": "sev N S1|S2|S3|S4 gerekçe",
    "pending": "pending N eksik-bilgi",
    "resume": "resume N",
    "workaround": "workaround N metin",
    "resolve": "resolve N metin [--fix-version SÜRÜM]",
    "close": "close N",
    "reopen": "reopen N gerekçe",
    "escalate": "escalate N tier2|tier3 gerekçe",
    "note": "note N metin",
    "reply": "reply N metin",
    "exception": "exception N metin",
    "status": "status N",
    "list": "list [mine|breaching|customer KOD]",
    "suggest": "suggest N",
    "link": "link N KB-ID | link N M",
    "kb": "kb add N [KB-ID] | kb edit KB-ID ALAN METİN | kb publish KB-ID",
    "report": "report [MÜŞTERİ] [YYYY-AA]",
    "planned": "planned",
    "oncall": "oncall [ISO] · oncall swap @mühendis until ISO",
    "merge": "merge N into M",
    "away": "away [@mühendis]",
    "back": "back [@mühendis]",
    "help": "help",
}
# "cmd.usage.VERB" is the refusal that shows the verb's usage line in the actor's language
# (register raises at import when a verb lacks its Turkish line).
register({
    f"cmd.usage.{verb}": {"en": f"Usage: {line}",
                          "tr": f"Kullanım: {USAGE_TR[verb]}" if verb in USAGE_TR else ""}
    for verb, line in USAGE.items()
})


class CommandError(Exception):
    """Bad arguments or a forbidden state: the message goes back, nothing changes."""

    def __init__(self, key: str, **kwargs: Any) -> None:
        super().__init__(key)
        self.key = key
        self.kwargs = kwargs


@dataclass
class Ctx:
    """One command run: who runs it, in which language, at which instant, where notices go."""

    session: Session
    policy: Policy
    actor: Contact
    lang: str
    now: datetime
    routing: Routing
    charts: ChartMaker | None = None
    line: str = ""  # the command line as typed, its line breaks kept (for a reply's text)

    @property
    def staff(self) -> bool:
        return self.actor.role in STAFF_ROLES


def command_words(text: str) -> list[str]:
    """The verb and its arguments, without a leading slash, ``/destek`` or a Telegram
    ``@bot`` suffix: ``"/ack@destek_bot 12"`` and ``"/destek ack 12"`` are ``["ack", "12"]``."""
    words = strip_nul(text).strip().split()
    if words and words[0].startswith("/"):
        words[0] = words[0][1:]
        if words[0].split("@")[0].lower() == "destek":  # "/destek verb" or Telegram "/destek@bot"
            words = words[1:]
        elif words[0]:
            words[0] = words[0].split("@")[0]  # Telegram "/ack@destek_bot 12"
    return words


def usage_error(verb: str) -> CommandError:
    """The refusal that shows ``verb``'s usage line (in the language it is rendered in)."""
    return CommandError(f"cmd.usage.{verb}")


def ticket_number(verb: str, args: list[str]) -> int:
    """The ticket number in the first argument (``12`` or ``#12``)."""
    if not args:
        raise usage_error(verb)
    number = store.parse_ticket_number(args[0])
    if number is None:
        raise usage_error(verb)
    return number


def text_from(verb: str, args: list[str], start: int, line: str = "") -> str:
    """The arguments from ``start`` on, as one text; it must not be empty. With the typed
    ``line``, the text is cut from it, so its line breaks and spacing stay as written."""
    text = " ".join(args[start:]).strip()
    if not text:
        raise usage_error(verb)
    words = line.split()
    if line and words[len(words) - (len(args) - start):] == args[start:]:
        # Skip as many words of the line as precede the text; keep what follows verbatim.
        rest = strip_nul(line).strip()
        for _ in range(len(words) - (len(args) - start)):
            rest = rest[len(rest.split(None, 1)[0]):].lstrip()
        return rest
    return text


def named_ticket(ctx: Ctx, verb: str, args: list[str]) -> Ticket:
    """The ticket named by the first argument (commands are staff-only)."""
    n = ticket_number(verb, args)
    ticket = ctx.session.get(Ticket, n)
    if ticket is None:
        raise CommandError("cmd.err.no_ticket", n=n)
    return ticket


def refuse_finished(ticket: Ticket, allow_resolved: bool = False) -> None:
    """Refuse a closed ticket, and a resolved one unless ``allow_resolved``."""
    n = ticket.id
    if ticket.status == TicketStatus.CLOSED:
        raise CommandError("cmd.err.closed", n=n)
    if ticket.status == TicketStatus.RESOLVED and not allow_resolved:
        raise CommandError("cmd.err.resolved", n=n)
