"""The Slack app (slack-bolt): every event, slash command and button as one neutral message
for the one dispatch, and its replies as Slack messages.

HTTP mode: a Bolt :class:`AsyncApp` behind a small Starlette app (:mod:`.http`), served by
uvicorn; Socket Mode when ``SLACK_APP_TOKEN`` is set (:mod:`.service`). Every listener
acknowledges at once and does the database and Web API work afterwards (lazy listeners).
Messages in channels (Slack Connect channels mapped to a customer, the engineers' card threads)
are translated in :mod:`.shared`.
Slack's retries of an event (same ``event_id``) are claimed once (``slack:{event_id}``,
:mod:`bot.channels.pipeline`) and change nothing the second time. Our Web API calls go through
:class:`.webapi.WebApi` with Slack's rate-limit, connection and server-error retry handlers.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.applications import Starlette

from handlers.i18n import t
from handlers.identity import Refusal, lookup_contact
from handlers.types import COMMAND_STEP, Incoming, IncomingFile, Reply, Routing
from sla import Policy, load_policy
from storage import deliveries
from storage.clock import Clock, system_clock
from storage.db import engine_for
from storage.models import Contact, Ticket

from ..pipeline import Pipeline
from . import blocks, form
from .http import events_app
from .shared import Channels, event_team, is_shared, workspace_of
from .webapi import WebApi, make_client

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger("destek.slack")
CHANNEL = "slack"
SEND_TO_CUSTOMER = "send_to_customer"  # the message action's callback id (slack-manifest.yaml)


class SlackBot:
    """The Bolt app with Destek's listeners, and its ASGI app."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine | None = None,
        policy: Policy | None = None,
        clock: Clock = system_clock,
        routing: Routing | None = None,
    ) -> None:
        from bot.routing import intake_config  # the wiring builds on the channels, not back

        self.settings = settings
        self.engine = engine or engine_for(settings.database_url)
        self.policy = policy or load_policy(settings.policy_path)
        self.clock = clock
        cfg = intake_config(settings, self.policy)
        self.cfg = replace(cfg, routing=routing) if routing is not None else cfg
        self.api = WebApi(settings)
        self.app = AsyncApp(
            # Bolt gets a client of its own without our kept-alive session: it deep-copies
            # its per-request client for every lazy listener, and a live session must not be
            # copied.
            client=make_client(settings),
            signing_secret=settings.slack_signing_secret or "",
            # Verified once: the events endpoint (.http) checks the signature before Bolt sees
            # the request (Bolt parses first); Socket Mode requests carry none.
            request_verification_enabled=False,
            # The ack listeners are short; running them inline answers Slack at once (no
            # polling for the ack), and the lazy listeners still run after the response.
            process_before_response=True,
        )
        self.command_name = settings.slack_command
        # Few database threads: SQLite has one writer; on PostgreSQL the work in a transaction
        # is mostly Python holding the GIL, so more threads only take it from the event loop.
        # Measured with benchmarks/bench_load.py (200 customers + 50 engineers, no `list`):
        # p99 48-51 ms with 1-2 threads, 100 ms with 3, 131-140 ms with 4-6. Two, so one slow
        # transaction does not hold up every other.
        self.inbound = Pipeline(self.engine, self.cfg, clock, name="destek-slack-db")
        self.db = self.inbound.db
        self.bot_user: str | None = None  # the bot's user id, once an event has told it
        self.channels = Channels(self)  # channel messages: shared channels, engineers' threads
        self._register()

    def asgi(self) -> Starlette:
        """Starlette app: ``POST /slack/events`` (Bolt) and ``GET /healthz``."""
        async def healthy() -> str | None:
            try:
                await self.db(lambda s: s.exec(sql_text("SELECT 1")).one())  # type: ignore[call-overload]
            except Exception as exc:  # noqa: BLE001 - health reports, never raises
                return str(exc)
            return None

        return events_app(self.app, self.settings.slack_signing_secret or "", healthy)

    async def close(self) -> None:
        """Close our Web API sessions."""
        await self.api.close()

    # -- listeners -------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        app.command(self.command_name)(ack=_ack, lazy=[self._on_command])
        app.event("message")(ack=_ack, lazy=[self._on_message])
        app.event("app_mention")(ack=_ack, lazy=[self._on_mention])
        app.event("channel_shared")(_on_channel_shared)
        app.event("member_joined_channel")(_on_member_joined)
        app.action(re.compile(f"^{blocks.CHOICE_ACTION}\\d+$"))(ack=_ack,
                                                                 lazy=[self._on_choice])
        app.action("ticket_ack")(ack=_ack, lazy=[self._on_card_ack])
        app.action(blocks.FORM_ACTION)(ack=_ack, lazy=[self._on_form_button])
        app.action(re.compile(f"^{blocks.COMMAND_ACTION}\\d+$"))(ack=_ack,
                                                                  lazy=[self._on_command_button])
        app.action(re.compile("^ticket_(pending|resolve)$"))(ack=_ack, lazy=[self._on_card_modal])
        app.view(blocks.VERB_CALLBACK)(ack=self._ack_verb_view, lazy=[self._on_verb_view])
        app.shortcut(SEND_TO_CUSTOMER)(ack=_ack, lazy=[self.channels.send_to_customer])
        app.view(blocks.INTAKE_CALLBACK)(ack=self._ack_intake_view, lazy=[self._on_intake_view])

    # slash command ---------------------------------------------------------------------------

    async def _on_command(self, body: dict[str, Any], respond: Any) -> None:
        user = str(body.get("user_id", ""))
        verb, *args = blocks.mrkdwn_unescape(body.get("text") or "").split() or ["help"]
        if verb.lower() == "new" and body.get("trigger_id"):
            await self._open_intake_modal(body, respond)  # the whole report as one form
            return
        msg = Incoming(CHANNEL, user, chat=body.get("channel_id"), command=verb.lower(),
                       args=tuple(args))
        replies = await self.inbound.dispatch(None, msg)
        for reply in replies or ():
            await self._respond(body, respond, reply, card=verb.lower() == "status")

    async def _respond(self, body: Mapping[str, Any], respond: Any, reply: Reply,
                       card: bool = False) -> None:
        """Answer a slash command: ephemeral through response_url, else chat.postEphemeral."""
        plain, reply = reply, blocks.for_slack(reply, self.command_name)
        ticket = reply.meta.get("ticket")
        # An engineer's `status N` is the ticket's card, with its buttons.
        as_card = card and reply.meta.get("command")
        rendered = (blocks.card_blocks(plain.text, int(ticket)) if as_card and ticket
                    else blocks.reply_blocks(reply))
        if body.get("response_url"):
            await self.api.webhook(str(body["response_url"]), text=reply.text, blocks=rendered,
                                response_type="ephemeral")
        else:
            await self.api.call(self.api.client.chat_postEphemeral, channel=body.get("channel_id"),
                             user=body.get("user_id"), text=reply.text, blocks=rendered)
        chart = Path(reply.meta["file"]) if reply.meta.get("file") else None
        if chart is not None and chart.is_file() and body.get("channel_id"):
            # `/destek report`: the chart is posted to the channel it was asked in.
            await self.api.call(self.api.client.files_upload_v2, channel=body.get("channel_id"),
                             file=str(chart), filename=chart.name, title=chart.stem)

    # events ----------------------------------------------------------------------------------

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any],
                          context: dict[str, Any]) -> None:
        if event.get("channel_type") in ("channel", "group"):
            await self.channels.on_message(body, event, context)  # see .shared
            return
        if event.get("channel_type") != "im" or event.get("bot_id"):
            return
        if event.get("subtype") not in (None, "file_share", "thread_broadcast"):
            return
        user = event.get("user")
        if not user:
            return
        key = f"slack:{body.get('event_id') or event.get('client_msg_id') or event.get('ts')}"
        # A retry is refused where the delivery is claimed (_route); asking first spares
        # only the download of a retried event's files.
        if event.get("files") and await self.db(_seen, key):
            log.info("slack retry of %s ignored", key)
            return
        files = await self.api.download(event.get("files") or [])
        workspace = workspace_of(context, event_team(context, event))
        await self._handle_dm(key, user, event, files, workspace)

    async def _handle_dm(self, key: str, user: str, event: Mapping[str, Any],
                         files: Sequence[IncomingFile], workspace: str = "") -> None:
        channel = str(event.get("channel"))
        thread = event.get("thread_ts")
        msg = Incoming(CHANNEL, user, chat=channel,
                       text=blocks.mrkdwn_unescape(event.get("text") or ""),
                       thread=thread, files=tuple(files), workspace=workspace)
        replies = await self.inbound.dispatch(key, msg)
        if replies is None:
            log.info("slack retry of %s ignored", key)
            return
        await self._post_replies(channel, replies, thread, opener=user)
        if any(r.meta.get("started") for r in replies):
            # The same report as one form: a modal needs a button's trigger_id.
            lang = await self.db(lambda s: _language(lookup_contact(s, CHANNEL, user,
                                                                    workspace)))
            await self.api.call(self.api.client.chat_postMessage, channel=channel,
                             text=t("slack.form.offer", lang),
                             blocks=blocks.form_offer(lang))

    async def _on_mention(self, body: dict[str, Any], event: dict[str, Any],
                          context: dict[str, Any]) -> None:
        if await self.channels.on_shared_mention(body, event, context):
            return  # a customer's shared channel: their message, in its thread
        key = f"slack:{body.get('event_id') or event.get('ts')}"
        text = blocks.mrkdwn_unescape(
            re.sub(r"^\s*<@[A-Z0-9]+(\|[^>]*)?>\s*", "", event.get("text") or ""))
        verb, *args = text.split() or ["help"]
        channel = str(event.get("channel"))
        thread = event.get("thread_ts") or event.get("ts")
        msg = Incoming(CHANNEL, event.get("user", ""), chat=channel, command=verb.lower(),
                       args=tuple(args), thread=thread)
        replies = await self.inbound.dispatch(key, msg)
        if replies:
            await self._post_replies(channel, replies, thread)

    # buttons ---------------------------------------------------------------------------------

    async def _on_choice(self, body: dict[str, Any], action: dict[str, Any],
                         context: dict[str, Any]) -> None:
        step, value = blocks.parse_choice(action.get("value") or "")
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id") or await self.api.dm_channel(user)
        workspace = workspace_of(context, body["user"].get("team_id"))
        # A dialog in a shared channel's thread (never a DM, D...: no look-up for those).
        if channel[:1] in ("C", "G") and await self.db(is_shared, channel):
            thread = ((body.get("message") or {}).get("thread_ts")
                      or (body.get("container") or {}).get("thread_ts"))
            await self.channels.in_shared(None, Incoming(
                CHANNEL, user, chat=channel, text=value, button_step=step, thread=thread,
                workspace=workspace))
            return
        msg = Incoming(CHANNEL, user, chat=channel, text=value, button_step=step,
                       workspace=workspace)
        replies = await self.inbound.dispatch(None, msg)
        await self._post_replies(channel, replies or (), None, opener=user)

    async def _on_card_ack(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        await self._button_command(body, f"ack {action.get('value', '')}")

    async def _on_command_button(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        await self._button_command(body, action.get("value") or "help")

    async def _button_command(self, body: dict[str, Any], line: str) -> None:
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id") or await self.api.dm_channel(user)
        thread = (body.get("message") or {}).get("ts")
        msg = Incoming(CHANNEL, user, chat=channel, text=line, button_step=COMMAND_STEP)
        replies = await self.inbound.dispatch(None, msg)
        await self._post_replies(channel, replies or (), thread, opener=user)

    async def _on_card_modal(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        verb = action["action_id"].removeprefix("ticket_")
        n = int(action.get("value") or 0)
        user = body["user"]["id"]
        lang = await self.db(lambda s: _language(lookup_contact(s, CHANNEL, user)))
        meta = {"channel": (body.get("channel") or {}).get("id"),
                "thread": (body.get("message") or {}).get("ts")}
        await self.api.call(self.api.client.views_open, trigger_id=body.get("trigger_id"),
                         view=blocks.verb_modal(verb, n, lang, meta))

    async def _ack_verb_view(self, ack: Any, view: dict[str, Any], body: dict[str, Any]) -> None:
        values = blocks.view_values(view["state"]["values"])
        if not (values.get("text") or "").strip():
            lang = await self.db(lambda s: _language(lookup_contact(s, CHANNEL,
                                                                    body["user"]["id"])))
            await ack(response_action="errors", errors={"text": t("slack.verb.required", lang)})
            return
        await ack()

    async def _on_verb_view(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        values = blocks.view_values(view["state"]["values"])
        text = " ".join((values.get("text") or "").split())
        if not text:
            return
        args = [str(meta["n"]), *text.split()]
        if meta["verb"] == "resolve" and (values.get("fix_version") or "").strip():
            args += ["--fix-version", values["fix_version"].strip().split()[0]]
        user = body["user"]["id"]
        channel = meta.get("channel") or await self.api.dm_channel(user)
        msg = Incoming(CHANNEL, user, chat=channel, command=str(meta["verb"]), args=tuple(args))
        replies = await self.inbound.dispatch(None, msg)
        await self._post_replies(channel, replies or (), meta.get("thread"))

    # the intake modal --------------------------------------------------------------------------

    async def _on_form_button(self, body: dict[str, Any], context: dict[str, Any]) -> None:
        user = body["user"]["id"]
        result = await self.db(form.intake_view, self.cfg, user, self.clock(),
                               workspace_of(context, body["user"].get("team_id")))
        if isinstance(result, str):
            channel = (body.get("channel") or {}).get("id") or await self.api.dm_channel(user)
            await self._post_replies(channel, [Reply(result)], None)
            return
        await self.api.call(self.api.client.views_open, trigger_id=body.get("trigger_id"),
                            view=result)

    async def _open_intake_modal(self, body: Mapping[str, Any], respond: Any) -> None:
        user, trigger_id = str(body.get("user_id", "")), str(body.get("trigger_id", ""))
        result = await self.db(form.intake_view, self.cfg, user, self.clock())
        if isinstance(result, str):
            await self._respond(body, respond, Reply(result))
            return
        await self.api.call(self.api.client.views_open, trigger_id=trigger_id, view=result)

    async def _ack_intake_view(self, ack: Any, body: dict[str, Any], view: dict[str, Any],
                               context: dict[str, Any]) -> None:
        values = blocks.view_values(view["state"]["values"])
        who, _, errors = await self.db(form.validate, self.cfg, body["user"]["id"], values,
                                        self.clock(),
                                        workspace_of(context, body["user"].get("team_id")))
        if isinstance(who, Refusal):
            await ack(response_action="errors", errors={"summary": who.text[:150]})
        elif errors:
            await ack(response_action="errors", errors={
                (blocks.ATTACHMENTS_BLOCK if k == "attachments" else k): v
                for k, v in errors.items()})
        else:
            await ack()

    async def _on_intake_view(self, body: dict[str, Any], view: dict[str, Any],
                              context: dict[str, Any]) -> None:
        user = body["user"]["id"]
        values = blocks.view_values(view["state"]["values"])
        files = await self.api.download([{"id": fid} for fid in
                                      values.get(blocks.ATTACHMENTS_BLOCK) or []])
        channel = await self.api.dm_channel(user)
        replies = await self.db(form.open_report, self.cfg, user, values, channel, files,
                                 self.clock(), workspace_of(context, body["user"].get("team_id")))
        await self._post_replies(channel, replies, None, opener=user)

    async def _post_replies(self, channel: str, replies: Sequence[Reply],
                            thread: str | None, opener: str | None = None) -> None:
        """Post replies in order, in ``thread`` when the message came from one; the
        confirmation of a ticket ``opener`` just opened becomes the thread of its later
        updates (P21)."""
        for i, reply in enumerate(blocks.for_slack(r, self.command_name) for r in replies):
            resp = await self.api.call(self.api.client.chat_postMessage, channel=channel,
                                    text=reply.text, blocks=blocks.reply_blocks(reply),
                                    thread_ts=thread)
            if resp is None:  # logged by the call; committed already: the worker retries
                await self.inbound.undelivered(CHANNEL, channel, thread,
                                               f"slack:{uuid.uuid4().hex}", replies[i:])
                return
            await self.inbound.posted(reply, str(resp.get("ts") or "") or None)
            ticket = reply.meta.get("ticket")
            if resp is not None and ticket and opener and thread is None:
                await self.db(_set_thread, int(ticket), channel, str(resp.get("ts")), opener)


async def _ack(ack: Any) -> None:
    await ack()


async def _on_channel_shared(event: dict[str, Any]) -> None:
    # Destek reads a shared channel only once a manager maps it to the customer.
    log.info("slack channel %s shared with team %s (map it to its customer: destek customer "
             "set CODE --slack-channel %s)", event.get("channel"),
             event.get("connected_team_id"), event.get("channel"))


async def _on_member_joined(event: dict[str, Any]) -> None:
    log.info("slack: %s joined channel %s", event.get("user"), event.get("channel"))


def _seen(session: Session, key: str) -> bool:
    return bool(deliveries.seen(session, [key]))


def _set_thread(session: Session, ticket_id: int, channel: str, ts: str, opener: str) -> None:
    ticket = session.get(Ticket, ticket_id)
    if (ticket is not None and ticket.channel == CHANNEL and ticket.channel_user == opener
            and not ticket.channel_thread):
        ticket.channel_chat = channel
        ticket.channel_thread = ts
        session.add(ticket)


def _language(contact: Contact | None) -> str:
    return (contact.language if contact else None) or "en"
