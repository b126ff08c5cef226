"""Acting from the ticket page: each form becomes the chat verb's command line, run by
:func:`handlers.commands.execute_command` with the logged-in staff contact as the actor, so
the rules, the refusals, the audit trail and what the customer is told are exactly the chat's.

Forms carry a per-session CSRF token (:func:`csrf_token`, derived from the session's secret
cookie, which a page of another site can neither read nor guess); a POST without it, or not
from the dashboard's own origin, is refused with 403 and changes nothing. The result shown
after the redirect travels signed with the same token (:func:`sign_flash`), so a crafted link
cannot put words on the desk.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

ACTIONS = ("assign", "reply", "note", "sev", "pending", "resume", "workaround", "resolve",
           "escalate")
TIERS = ("tier2", "tier3")
MAX_TEXT = 20_000


class ActionError(ValueError):
    """A form that cannot become a command line (a missing or odd field)."""


def csrf_token(session_token: str) -> str:
    """The forms' token of one session: unguessable without the HttpOnly session cookie."""
    return hmac.new(session_token.encode("utf-8", "replace"), b"destek-desk-csrf",
                    hashlib.sha256).hexdigest()


def csrf_ok(session_token: str | None, given: str | None) -> bool:
    """Whether a form's token is this session's (compared in constant time)."""
    if not session_token or not given:
        return False
    return hmac.compare_digest(csrf_token(session_token), given)


def sign_flash(session_token: str, text: str) -> tuple[str, str]:
    """``(message, signature)`` for the redirect's query string."""
    raw = base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")
    sig = hmac.new(csrf_token(session_token).encode(), raw.encode(), hashlib.sha256)
    return raw, sig.hexdigest()[:32]


def read_flash(session_token: str | None, raw: str | None, sig: str | None) -> str | None:
    """The message of a redirect when its signature is this session's, else None."""
    if not session_token or not raw or not sig or len(raw) > 40_000:
        return None
    want = hmac.new(csrf_token(session_token).encode(), raw.encode(), hashlib.sha256)
    if not hmac.compare_digest(want.hexdigest()[:32], sig):
        return None
    try:
        return base64.urlsafe_b64decode(raw.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


def _word(form: dict[str, str], key: str) -> str:
    value = form.get(key, "").strip()
    if not value or len(value.split()) != 1 or len(value) > 100:
        raise ActionError(f"choose a {key}")
    return value


def _text(form: dict[str, str], key: str = "text") -> str:
    value = form.get(key, "").replace("\x00", "").strip()
    if not value:
        raise ActionError("write the text first")
    if len(value) > MAX_TEXT:
        raise ActionError(f"the text is longer than {MAX_TEXT} characters")
    return value


def command_line(number: int, form: dict[str, str]) -> str:
    """The chat command line a ticket page form means (``reply 12 text``…); ActionError when
    a field is missing. The handler then checks everything a chat line would get checked."""
    action = form.get("action", "")
    n = str(number)
    if action == "assign":
        who = form.get("engineer", "").strip()
        if not who or len(who) > 200:
            raise ActionError("choose an engineer")
        return f"assign {n} {who}"
    if action in ("reply", "note", "pending", "workaround"):
        return f"{action} {n} {_text(form)}"
    if action == "sev":
        return f"sev {n} {_word(form, 'severity')} {_text(form)}"
    if action == "resume":
        return f"resume {n}"
    if action == "resolve":
        version = form.get("fix_version", "").strip()
        tail = f" --fix-version {_word(form, 'fix_version')}" if version else ""
        return f"resolve {n} {_text(form)}{tail}"
    if action == "escalate":
        tier = _word(form, "tier")
        if tier not in TIERS:
            raise ActionError("choose tier2 or tier3")
        return f"escalate {n} {tier} {_text(form)}"
    raise ActionError("unknown action")
