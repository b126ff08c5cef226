"""The intake dialog, defined once as data: every channel (console, Telegram, Slack) drives it.

A dialog is the ordered tuple :data:`FIELDS`. Each :class:`FieldDef` has a key (the answer's
name, mostly a Ticket column), a prompt in English and Turkish (i18n key ``ask.<key>``), a kind
(text / choice / yesno / attachments), its choices, a validator that turns raw text into the
stored value or raises :class:`Invalid`, a condition (``applies``) and the fields whose answers
it invalidates when it changes (``depends_on``). A Slack modal can be built from the same list:
``field.prompt(lang)``, ``field.choices_for(ctx)``, ``field.validate(raw, ctx)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session, select

from sla import Policy
from storage import directory
from storage.memo import memo
from storage.models import Product, ProductVersion, TicketKind

from . import dialog_messages as _messages  # noqa: F401 - registers the dialog's catalogue
from .i18n import t
from .identity import Identity
from .types import Choice


class FieldKind(StrEnum):
    TEXT = "text"
    CHOICE = "choice"
    YESNO = "yesno"
    ATTACHMENTS = "attachments"


class Invalid(ValueError):
    """An answer that does not pass validation; ``key``/``kw`` form the helpful message."""

    def __init__(self, key: str, **kw: Any) -> None:
        super().__init__(key)
        self.key = key
        self.kw = kw

    def message(self, lang: str) -> str:
        return t(self.key, lang, **self.kw)


@dataclass
class FieldContext:
    """What a validator or a choice list may look at."""

    session: Session
    identity: Identity
    policy: Policy
    answers: dict[str, Any]
    lang: str
    now: datetime
    attachments: int = 0  # attachments stored so far in this dialog
    # The answer is a pressed button's value (never read as a typed position).
    pressed: bool = False


Validator = Callable[[str, FieldContext], Any]
Choices = Callable[[FieldContext], list[Choice]]


@dataclass(frozen=True)
class FieldDef:
    key: str
    kind: FieldKind
    choices: Choices | None = None
    validator: Validator | None = None
    applies: Callable[[Mapping[str, Any]], bool] = field(default=lambda a: True)
    depends_on: tuple[str, ...] = ()
    report: bool = True  # part of the ticket's report (False: dialog control, e.g. self-help)
    min_len: int = 0
    max_len: int = 4000

    @property
    def conditional(self) -> bool:
        """Asked only for some answers (``applies`` given): optional in a one-page form."""
        return self.applies is not _ALWAYS

    def prompt(self, lang: str) -> str:
        return t(f"ask.{self.key}", lang)

    def label(self, lang: str) -> str:
        return t(f"field.{self.key}", lang)

    def choices_for(self, ctx: FieldContext) -> list[Choice]:
        if self.kind == FieldKind.YESNO:
            return [Choice("yes", t("choice.yes", ctx.lang)),
                    Choice("no", t("choice.no", ctx.lang))]
        return self.choices(ctx) if self.choices else []

    def validate(self, raw: str, ctx: FieldContext) -> Any:
        """The value to store for ``raw``; raises :class:`Invalid` with a helpful message."""
        text = raw.strip()
        if self.kind == FieldKind.YESNO:
            try:  # the numbered choices (1 yes, 2 no) as well as the words
                return match_choice(text, self.choices_for(ctx), ctx.pressed) == "yes"
            except Invalid:
                return parse_yes_no(text)
        if self.kind == FieldKind.CHOICE:
            value = match_choice(text, self.choices_for(ctx), ctx.pressed)
            return self.validator(value, ctx) if self.validator else value
        if self.kind == FieldKind.TEXT:
            if len(text) < self.min_len:
                raise Invalid("invalid.too_short", n=self.min_len)
            if len(text) > self.max_len:
                raise Invalid("invalid.too_long", n=self.max_len)
        return self.validator(text, ctx) if self.validator else text


_ALWAYS = FieldDef.__dataclass_fields__["applies"].default  # the one default: always asked


YES = {"yes", "y", "evet", "e", "true", "1", "available", "var"}
NO = {"no", "n", "hayır", "hayir", "h", "false", "0", "yok", "not yet", "henüz değil"}


def parse_yes_no(text: str) -> bool:
    low = text.casefold()
    if low in YES:
        return True
    if low in NO:
        return False
    raise Invalid("invalid.yesno")


def match_choice(text: str, choices: list[Choice], pressed: bool = False) -> str:
    """A choice's value from what was typed: its number as shown (a typed digit is always the
    position, whatever the values look like), its value or its label. A pressed button sends
    the value itself (or, where a platform cannot carry it, the position)."""
    low = text.casefold()
    position = int(text) if text.isascii() and text.isdigit() and len(text) < 4 else 0
    if position and not pressed and 1 <= position <= len(choices):
        return choices[position - 1].value
    for c in choices:
        if low in (c.value.casefold(), c.label.casefold()):
            return c.value
    if position and 1 <= position <= len(choices):
        return choices[position - 1].value
    raise Invalid("invalid.choice", options=", ".join(c.label for c in choices))


def position_of(text: str, choices: list[Choice]) -> str:
    """The value of the choice numbered ``text`` in a shown menu, else ``text`` itself."""
    n = int(text) if text.isascii() and text.isdigit() and len(text) < 4 else 0
    return choices[n - 1].value if 1 <= n <= len(choices) else text


# -- choices and validators -------------------------------------------------------------------


def _products(ctx: FieldContext) -> list[Choice]:
    contract = ctx.identity.contract
    return list(memo(ctx.session, ("dialog.products", contract.id), lambda: tuple(
        Choice(str(p.id), p.name) for p in directory.contract_products(ctx.session, contract))))


def _product_valid(value: str, ctx: FieldContext) -> int:
    return int(value)


def _versions(ctx: FieldContext) -> list[Choice]:
    pid = ctx.answers.get("product_id")
    if pid is None:
        return []
    return list(memo(ctx.session, ("dialog.versions", pid), lambda: tuple(
        Choice(v.version, v.version)  # the newest first
        for v in reversed(directory.list_versions(ctx.session, pid)))))


def product_name(session: Session, product_id: Any) -> str | None:
    """The product's name (read once per transaction: each summary and prompt shows it)."""
    def load() -> str | None:
        product = session.get(Product, product_id) if product_id is not None else None
        return product.name if product else None
    return memo(session, ("dialog.product_name", product_id), load)


def _version_valid(text: str, ctx: FieldContext) -> str:
    choices = _versions(ctx)
    try:
        return match_choice(text, choices, ctx.pressed)
    except Invalid:
        raise Invalid("invalid.version", options=", ".join(c.label for c in choices)) from None


def version_row(session: Session, product_id: int, version: str) -> ProductVersion | None:
    return session.exec(
        select(ProductVersion).where(
            ProductVersion.product_id == product_id, ProductVersion.version == version
        )
    ).first()


def _environments(ctx: FieldContext) -> list[Choice]:
    return [Choice("production", t("choice.production", ctx.lang)),
            Choice("test", t("choice.test", ctx.lang))]


def _selfhelp(ctx: FieldContext) -> list[Choice]:
    return [Choice("solved", t("choice.solved", ctx.lang)),
            Choice("continue", t("choice.continue", ctx.lang))]


SOLVED = {"solved", "yes", "evet", "çözüldü", "cozuldu", "it is solved", "fixed"}
NOT_SOLVED = {"no", "not solved", "continue", "hayır", "hayir", "çözülmedi", "cozulmedi",
              "devam", "not yet", "henüz değil"}


def _selfhelp_valid(text: str, ctx: FieldContext) -> str:
    """Did a known error's workaround solve it? The buttons, their numbers, or plain words."""
    try:
        return match_choice(text, _selfhelp(ctx), ctx.pressed)
    except Invalid:
        low = " ".join(text.casefold().split()).rstrip(".!")
        if low in SOLVED:
            return "solved"
        if low in NOT_SOLVED:
            return "continue"
        raise


def _summary_valid(text: str, ctx: FieldContext) -> str:
    """A summary says what is wrong in words: symbols or emoji alone are not one."""
    if sum(ch.isalpha() for ch in text) < 3:
        raise Invalid("invalid.summary_words")
    return text


NOT_AVAILABLE = {"none", "not available", "n/a", "yok", "mevcut değil", "-"}


def _error_text(text: str, ctx: FieldContext) -> str | None:
    if text.casefold() in NOT_AVAILABLE:
        return None
    if len(text) < 3:
        raise Invalid("invalid.too_short", n=3)
    return text


def _attachment_choices(ctx: FieldContext) -> list[Choice]:
    return [Choice("done", t("choice.done", ctx.lang)),
            Choice("none", t("choice.not_available", ctx.lang))]


DONE = {"done", "tamam", "bitti", "ok"}


def _attachments_valid(text: str, ctx: FieldContext) -> str:
    low = position_of(text, _attachment_choices(ctx)).casefold()
    if low in DONE or low == "done":
        if ctx.attachments == 0:
            raise Invalid("invalid.no_attachments")
        return "done"
    if low in NOT_AVAILABLE or low == t("choice.not_available", ctx.lang).casefold():
        return "none"
    if low == t("choice.done", ctx.lang).casefold():
        return _attachments_valid("done", ctx)
    raise Invalid("invalid.attachments")


USERS = ("one", "few", "many", "all")


def _users(ctx: FieldContext) -> list[Choice]:
    return [Choice(u, t(f"choice.users.{u}", ctx.lang)) for u in USERS]


def _users_valid(text: str, ctx: FieldContext) -> str:
    """One of the choices (value, label or number), or a head count mapped onto them."""
    try:
        return match_choice(text, _users(ctx), ctx.pressed)
    except Invalid:
        if text.isascii() and text.isdigit() and len(text) <= 9 and int(text) > 0:
            n = int(text)
            return "one" if n <= 1 else "few" if n <= 10 else "many"
        raise


def _severities(ctx: FieldContext) -> list[Choice]:
    return [Choice(s, f"{s} {ctx.policy.severity_name(s, ctx.lang)}")
            for s in ctx.policy.severities]


def _kinds(ctx: FieldContext) -> list[Choice]:
    return [Choice(k, t(f"choice.kind.{k}", ctx.lang))
            for k in ("defect", "problem", "question", "service_request")]


def _services(ctx: FieldContext) -> list[Choice]:
    return [Choice(str(i + 1), name) for i, name in enumerate(ctx.policy.additional_services)]


def _service_valid(value: str, ctx: FieldContext) -> str:
    return ctx.policy.additional_services[int(value) - 1]


def propose_severity(answers: Mapping[str, Any]) -> str:
    """The severity the business-impact answers point to (policy definitions S1–S4)."""
    if answers.get("kind") == TicketKind.SERVICE_REQUEST:
        return "S4"  # no impact questions, no clock (P10): sorted with the least urgent
    down = bool(answers.get("production_down"))
    workaround = bool(answers.get("workaround_available"))
    wide = answers.get("users_affected") in ("many", "all")
    if down and not workaround:
        sev = "S1"
    elif down or (not workaround and wide):
        sev = "S2"
    elif not workaround or wide:
        sev = "S3"
    else:
        sev = "S4"
    if answers.get("environment") == "test" and sev in ("S1", "S2"):
        sev = "S3"  # a test system down does not stop the customer's business
    return sev


def _is(key: str, value: Any) -> Callable[[Mapping[str, Any]], bool]:
    return lambda a: a.get(key) == value


def _severity_overridden(a: Mapping[str, Any]) -> bool:
    return a.get("severity") is not None and a.get("severity") != propose_severity(a)


def _defect(a: Mapping[str, Any]) -> bool:
    """Asked unless the report is a service request: reproduction, evidence and business
    impact describe a fault; a billed service (P10/P11) has no severity to prove."""
    return a.get("kind") != TicketKind.SERVICE_REQUEST


def _defect_and(key: str, value: Any) -> Callable[[Mapping[str, Any]], bool]:
    return lambda a: _defect(a) and a.get(key) == value


# The kind comes right after the summary (and the known issues it matches): a service request
# is told at once that it is billed separately and skips every fault question.
FIELDS: tuple[FieldDef, ...] = (
    FieldDef("summary", FieldKind.TEXT, validator=_summary_valid, min_len=8, max_len=300),
    FieldDef("selfhelp", FieldKind.TEXT, choices=_selfhelp, validator=_selfhelp_valid,
             report=False,
             applies=lambda a: bool(a.get("_kb")), depends_on=("summary",)),
    FieldDef("kind", FieldKind.CHOICE, choices=_kinds),
    FieldDef("service_category", FieldKind.CHOICE, choices=_services, validator=_service_valid,
             applies=_is("kind", "service_request"), depends_on=("kind",)),
    FieldDef("product_id", FieldKind.CHOICE, choices=_products, validator=_product_valid),
    FieldDef("version_text", FieldKind.TEXT, choices=_versions, validator=_version_valid,
             depends_on=("product_id",)),
    FieldDef("environment", FieldKind.CHOICE, choices=_environments),
    FieldDef("description", FieldKind.TEXT, min_len=20),
    FieldDef("steps", FieldKind.TEXT, min_len=10, applies=_defect),
    FieldDef("error_text", FieldKind.TEXT, validator=_error_text, applies=_defect),
    FieldDef("attachments", FieldKind.ATTACHMENTS, choices=_attachment_choices,
             validator=_attachments_valid, applies=_defect),
    FieldDef("attachments_missing_reason", FieldKind.TEXT, min_len=5,
             applies=_defect_and("attachments", "none"), depends_on=("attachments",)),
    FieldDef("production_down", FieldKind.YESNO, applies=_defect),
    FieldDef("workaround_available", FieldKind.YESNO, applies=_defect),
    FieldDef("users_affected", FieldKind.TEXT, choices=_users, validator=_users_valid,
             applies=_defect),
    FieldDef("severity", FieldKind.CHOICE, choices=_severities, applies=_defect,
             depends_on=("production_down", "workaround_available", "users_affected",
                         "environment")),
    FieldDef("severity_reason", FieldKind.TEXT, min_len=10,
             applies=lambda a: _defect(a) and _severity_overridden(a),
             depends_on=("severity",)),
    FieldDef("remote_access", FieldKind.YESNO),
    FieldDef("remote_access_how", FieldKind.TEXT, min_len=5, applies=_is("remote_access", True),
             depends_on=("remote_access",)),
)
BY_KEY: dict[str, FieldDef] = {f.key: f for f in FIELDS}
CONFIRM = "confirm"
EDIT_PICK = "edit_pick"


def get_field(key: str) -> FieldDef:
    return BY_KEY[key]


def dependents(key: str) -> list[str]:
    """Fields whose answers become stale when ``key`` changes (transitively)."""
    out: list[str] = []
    todo = [key]
    while todo:
        k = todo.pop()
        for f in FIELDS:
            if k in f.depends_on and f.key not in out:
                out.append(f.key)
                todo.append(f.key)
    return out


def next_field(answers: Mapping[str, Any]) -> FieldDef | None:
    """The first applicable field without an answer; None when the report is complete."""
    for f in FIELDS:
        if f.applies(answers) and f.key not in answers:
            return f
    return None


def find_field_by_name(name: str) -> FieldDef | None:
    """A field from what a user typed after ``edit``: its key or its label in either language."""
    low = name.strip().casefold().replace(" ", "_")
    aliases = {"product": "product_id", "version": "version_text", "ürün": "product_id",
               "sürüm": "version_text", "error": "error_text", "hata": "error_text"}
    low = aliases.get(low, low)
    for f in FIELDS:
        if low == f.key or low in (f.label("en").casefold().replace(" ", "_"),
                                   f.label("tr").casefold().replace(" ", "_")):
            return f
    return None


def display_value(key: str, value: Any, ctx: FieldContext) -> str:
    """An answer as the customer should read it in the summary."""
    f = BY_KEY.get(key)
    if value is None:
        return t("value.none", ctx.lang)
    if key == "product_id":
        return product_name(ctx.session, value) or str(value)
    if key == "attachments":
        return t("value.attachments", ctx.lang, n=ctx.attachments) if value == "done" \
            else t("choice.not_available", ctx.lang)
    if f is not None and f.kind == FieldKind.YESNO:
        return t("choice.yes" if value else "choice.no", ctx.lang)
    if f is not None and f.choices is not None and key != "service_category":
        for c in f.choices_for(ctx):
            if c.value == value:
                return c.label
    return str(value)
