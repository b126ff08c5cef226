"""Block Kit rendering for Slack: replies with choice buttons, the ticket card, the modals.

Pure functions from domain values (``Reply``, dialog fields) to Slack JSON, and back from a
submitted view's state to plain answers. Limits honoured: button/option text 75 characters,
values 2000 (buttons) / 150 (options), at most 25 elements per actions block, 100 options.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from handlers import customer_verbs
from handlers.commands import VERBS
from handlers.dialog import FieldDef, FieldKind
from handlers.i18n import register, t
from handlers.oncall import take_label
from handlers.text import line_parts
from handlers.types import COMMAND_STEP, Choice, Reply

INTAKE_CALLBACK = "intake_modal"
VERB_CALLBACK = "ticket_verb"
CHOICE_ACTION = "intake_choice_"  # + index; value JSON {"s": step, "v": value}
COMMAND_ACTION = "cmd_choice_"  # + index; value: a command line (e.g. "link 12 KE-0001")
CARD_ACTIONS = ("ticket_ack", "ticket_pending", "ticket_resolve")
FORM_ACTION = "intake_open_modal"
ATTACHMENTS_BLOCK = "attachments"
MULTILINE = {"description", "steps", "error_text", "attachments_missing_reason",
             "severity_reason", "remote_access_how"}

register({
    "slack.send.only_thread": {
        "en": "Send to customer works on a person's message in a ticket's thread (not on the "
              "ticket's card).",
        "tr": "Müşteriye gönder, bir kaydın ileti dizisindeki bir kişinin mesajında çalışır "
              "(kaydın kartında değil).",
    },
    "slack.modal.title": {"en": "Report a problem", "tr": "Sorun bildir"},
    "slack.modal.submit": {"en": "Open ticket", "tr": "Kayıt aç"},
    "slack.modal.cancel": {"en": "Cancel", "tr": "Vazgeç"},
    "slack.modal.files": {"en": "Screenshots, logs, trace files",
                          "tr": "Ekran görüntüleri, günlük (log) ve izleme dosyaları"},
    "slack.modal.files_hint": {
        "en": "Attach what you collected (P20). If you have nothing to attach, say why below.",
        "tr": "Topladığınız dosyaları ekleyin (P20). Ekleyecek bir şey yoksa nedenini aşağıya "
              "yazın.",
    },
    "slack.modal.severity_hint": {
        "en": "Leave empty to use the severity your answers point to.",
        "tr": "Yanıtlarınıza göre önerilen önem derecesini kullanmak için boş bırakın.",
    },
    "slack.modal.version_hint": {"en": "For example 4.2", "tr": "Örneğin 4.2"},
    "slack.modal.pick": {"en": "Choose…", "tr": "Seçin…"},
    "slack.form.offer": {
        "en": "Prefer one form? You can fill in the whole report at once instead.",
        "tr": "Tek bir form mu tercih edersiniz? Bildirimin tamamını tek seferde de "
              "doldurabilirsiniz.",
    },
    "slack.form.button": {"en": "Open the report form", "tr": "Bildirim formunu aç"},
    "slack.btn.ack": {"en": "Acknowledge", "tr": "Üstlen"},
    "slack.btn.pending": {"en": "Wait for customer", "tr": "Müşteriden bilgi iste"},
    "slack.btn.resolve": {"en": "Resolve", "tr": "Çöz"},
    "slack.verb.pending.title": {"en": "Waiting for customer", "tr": "Müşteri bekleniyor"},
    "slack.verb.pending.label": {"en": "What do you need from the customer?",
                                 "tr": "Müşteriden ne gerekiyor?"},
    "slack.verb.resolve.title": {"en": "Resolve ticket", "tr": "Kaydı çöz"},
    "slack.verb.resolve.label": {"en": "What was fixed?", "tr": "Ne düzeltildi?"},
    "slack.verb.fix_version": {"en": "Fixed in version (optional)",
                               "tr": "Düzeltmenin sürümü (isteğe bağlı)"},
    "slack.verb.submit": {"en": "Save", "tr": "Kaydet"},
    "slack.verb.required": {"en": "Please write a few words.", "tr": "Lütfen birkaç kelime yazın."},
    "slack.card.more": {
        "en": "… the rest does not fit in one message: destek ticket show {n}, or the dashboard.",
        "tr": "… devamı tek mesaja sığmıyor: destek ticket show {n} ya da pano.",
    },
})


def _has_placeholders(text: str) -> bool:
    return any(name is not None for _lit, name, _spec, _conv in string.Formatter().parse(text))


def _plain(text: str, limit: int = 3000) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(text, limit), "emoji": True}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section(text: str) -> dict[str, Any]:
    """A section of ``text``, which is mrkdwn already (see :func:`for_slack`)."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, 3000)}}


def reply_blocks(reply: Reply) -> list[dict[str, Any]] | None:
    """The reply's text plus one button per choice; None when plain text is enough.

    Intake choices carry their dialog step; a command reply's choices (step
    :data:`~handlers.types.COMMAND_STEP`) are command lines run as the person who presses them."""
    if not reply.choices:
        return None
    step = reply.meta.get("step", "")
    command = step == COMMAND_STEP
    buttons = [
        {"type": "button", "action_id": f"{COMMAND_ACTION if command else CHOICE_ACTION}{i}",
         "text": _plain(c.label, 75),
         "value": c.value[:2000] if command
         else json.dumps({"s": step, "v": c.value}, ensure_ascii=False)[:2000]}
        for i, c in enumerate(reply.choices[:100])
    ]
    blocks: list[dict[str, Any]] = [section(reply.text)]
    for i in range(0, len(buttons), 25):
        blocks.append({"type": "actions", "block_id": f"choices_{i // 25}",
                       "elements": buttons[i:i + 25]})
    return blocks


def parse_choice(value: str) -> tuple[str | None, str]:
    """(step, value) of a pressed choice button."""
    try:
        data = json.loads(value)
        return (data.get("s") or None), str(data["v"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, value


def form_offer(lang: str) -> list[dict[str, Any]]:
    """A DM message with the button that opens the intake modal."""
    return [section(t("slack.form.offer", lang)), {
        "type": "actions", "block_id": "form_offer",
        "elements": [{"type": "button", "action_id": FORM_ACTION, "value": "open",
                      "text": _plain(t("slack.form.button", lang), 75)}]}]


SECTION_CHARS = 3000  # a section block's text (Slack's limit)
MAX_BLOCKS = 50  # blocks in one message (Slack's limit)


def mrkdwn_escape(text: str) -> str:
    """User text made literal in mrkdwn: ``&``, ``<`` and ``>`` as Slack asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn_unescape(text: str) -> str:
    """Text as the person typed it: Slack sends ``&``, ``<`` and ``>`` of message and command
    text escaped; undone once, so the stored report holds their characters and length limits
    count them (mentions and links stay as Slack wrote them: ``<@U…>``)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _entity_safe(text: str, limit: int) -> int:
    """Where to cut escaped ``text`` to keep at most ``limit`` characters: before an entity
    (``&amp;``, ``&lt;``, ``&gt;``) the cut would split."""
    amp = text.rfind("&", max(0, limit - 4), limit)
    return amp if amp > 0 and ";" not in text[amp:limit] else limit


def _chunks(text: str, limit: int) -> list[str]:
    """``text`` (escaped) in pieces of at most ``limit`` characters, cut at line ends; a longer
    line is cut where it must, never inside an ``&…;`` entity."""
    return line_parts(text, limit, cut=_entity_safe)


def card_blocks(text: str, ticket_id: int, lang: str = "en") -> list[dict[str, Any]]:
    """A ticket card: ``text`` (plain, escaped here) in as many sections as it needs, within
    Slack's limits, and the engineers' buttons (Acknowledge, Wait for customer, Resolve). What
    does not fit in one message ends with a pointer to the whole report."""
    labels = {"ticket_ack": "slack.btn.ack", "ticket_pending": "slack.btn.pending",
              "ticket_resolve": "slack.btn.resolve"}
    elements = []
    for action in CARD_ACTIONS:
        button: dict[str, Any] = {"type": "button", "action_id": action,
                                  "text": _plain(t(labels[action], lang), 75),
                                  "value": str(ticket_id)}
        if action == "ticket_ack":
            button["style"] = "primary"
        elements.append(button)
    pieces = _chunks(mrkdwn_escape(text), SECTION_CHARS)
    room = MAX_BLOCKS - 1  # one block is the buttons
    if len(pieces) > room:
        note = mrkdwn_escape(t("slack.card.more", lang, n=ticket_id))
        pieces = pieces[:room]
        last = pieces[-1]
        room_left = SECTION_CHARS - len(note) - 1
        if len(last) > room_left:
            last = last[:_entity_safe(last, room_left)]
        pieces[-1] = last + "\n" + note
    sections = [{"type": "section", "text": {"type": "mrkdwn", "text": p or " "}}
                for p in pieces]
    return [*sections, {"type": "actions", "block_id": f"card_{ticket_id}",
                        "elements": elements}]


def page_blocks(text: str, ticket_id: int, lang: str = "en") -> list[dict[str, Any]]:
    """An on-call page: its text (mrkdwn, escaped by the caller) and one "Take it" button
    (the ``ack`` of the ticket)."""
    return [section(text), {"type": "actions", "block_id": f"page_{ticket_id}", "elements": [
        {"type": "button", "action_id": "ticket_ack", "style": "danger",
         "text": _plain(take_label(lang), 75), "value": str(ticket_id)}]}]


def verb_modal(verb: str, ticket_id: int, lang: str, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The small modal of the Pending and Resolve buttons."""
    blocks: list[dict[str, Any]] = [{
        "type": "input", "block_id": "text",
        "label": _plain(t(f"slack.verb.{verb}.label", lang), 2000),
        "element": {"type": "plain_text_input", "action_id": "v", "multiline": True,
                    "max_length": 3000},
    }]
    if verb == "resolve":
        blocks.append({
            "type": "input", "block_id": "fix_version", "optional": True,
            "label": _plain(t("slack.verb.fix_version", lang), 2000),
            "element": {"type": "plain_text_input", "action_id": "v", "max_length": 64},
        })
    return {
        "type": "modal", "callback_id": VERB_CALLBACK,
        "title": _plain(f"#{ticket_id} " + t(f"slack.verb.{verb}.title", lang), 24),
        "submit": _plain(t("slack.verb.submit", lang), 24),
        "close": _plain(t("slack.modal.cancel", lang), 24),
        "private_metadata": json.dumps({**metadata, "verb": verb, "n": ticket_id}),
        "blocks": blocks,
    }


def _options(choices: Sequence[Choice]) -> list[dict[str, Any]]:
    return [{"text": _plain(c.label, 75), "value": c.value[:150]} for c in choices[:100]]


def intake_modal(
    fields: Iterable[tuple[FieldDef, list[Choice], bool]], lang: str,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The intake as one modal, built from the dialog definition: ``(field, choices,
    optional)`` per report field. Choice fields become static selects, the rest text inputs,
    the attachments question a file input."""
    blocks: list[dict[str, Any]] = []
    for f, choices, optional in fields:
        label = _plain(f.label(lang), 2000)
        # A prompt that names an earlier answer ("Which version of {product}?") cannot be
        # filled in a modal that asks everything at once: the label says enough then.
        prompt = f.prompt(lang)
        hint: str | None = None if _has_placeholders(prompt) else prompt
        element: dict[str, Any]
        if f.kind == FieldKind.ATTACHMENTS:
            blocks.append({
                "type": "input", "block_id": ATTACHMENTS_BLOCK, "optional": True,
                "label": _plain(t("slack.modal.files", lang), 2000),
                "hint": _plain(t("slack.modal.files_hint", lang), 2000),
                "element": {"type": "file_input", "action_id": "v", "max_files": 10},
            })
            continue
        if choices and (f.kind != FieldKind.TEXT or f.key == "users_affected"):
            element = {"type": "static_select", "action_id": "v",
                       "placeholder": _plain(t("slack.modal.pick", lang), 150),
                       "options": _options(choices)}
        else:
            element = {"type": "plain_text_input", "action_id": "v",
                       "multiline": f.key in MULTILINE, "max_length": min(f.max_len, 3000)}
            if f.key == "version_text":
                element["placeholder"] = _plain(t("slack.modal.version_hint", lang), 150)
        if f.key == "severity":
            hint = t("slack.modal.severity_hint", lang)
        block: dict[str, Any] = {"type": "input", "block_id": f.key, "optional": optional,
                                 "label": label, "element": element}
        if hint:
            block["hint"] = _plain(hint, 2000)
        blocks.append(block)
    return {
        "type": "modal", "callback_id": INTAKE_CALLBACK,
        "title": _plain(t("slack.modal.title", lang), 24),
        "submit": _plain(t("slack.modal.submit", lang), 24),
        "close": _plain(t("slack.modal.cancel", lang), 24),
        "private_metadata": json.dumps(dict(metadata or {})),
        "blocks": blocks,
    }


def view_values(state_values: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A submitted view's ``state.values`` as ``{block_id: text | [file ids] | None}``."""
    out: dict[str, Any] = {}
    for block_id, actions in state_values.items():
        for element in actions.values():
            kind = element.get("type")
            if kind == "static_select":
                opt = element.get("selected_option")
                out[block_id] = opt.get("value") if opt else None
            elif kind == "file_input":
                out[block_id] = [f["id"] for f in element.get("files") or [] if f.get("id")]
            elif kind in ("radio_buttons",):
                opt = element.get("selected_option")
                out[block_id] = opt.get("value") if opt else None
            else:
                out[block_id] = element.get("value")
    return out


# A command as the neutral messages write it ("/status N"): on Slack every verb is an argument
# of the app's one slash command ("/destek status N"). Built from our own verb list only.
_COMMAND = re.compile(
    r"(?<![\w/])/(" + "|".join(sorted({*customer_verbs.VERBS, *VERBS}, key=len, reverse=True))
    + r")(?![\w/-])")


def slack_commands(text: str, command: str = "/destek") -> str:
    """``text`` with its ``/verb`` commands written as Slack's ``/destek verb``."""
    return _COMMAND.sub(lambda m: f"{command} {m.group(1)}", text)


def for_slack(reply: Reply, command: str = "/destek") -> Reply:
    """A neutral reply as Slack mrkdwn: its text escaped (``&``, ``<``, ``>``: a customer's
    words quoted in it are never markup), then its commands as Slack users type them (the
    command may itself be markup: ``<@U…>`` in a shared channel)."""
    text = slack_commands(mrkdwn_escape(reply.text), command)
    return reply if text == reply.text else replace(reply, text=text)

