"""The Slack app (slack-bolt): customers' intake and the engineers' ``/destek VERB`` commands.

HTTP mode: a Bolt :class:`AsyncApp` behind a small Starlette app (``POST /slack/events`` for
events, slash commands and interactivity; ``GET /healthz``), served by uvicorn. Socket Mode when
``SLACK_APP_TOKEN`` is set. The events endpoint verifies every request's signature (bad or
stale: 401) before Bolt parses it; Bolt's own check is off, so each request is verified once.

Every listener acknowledges at once and does the database and Web API work afterwards (lazy
listeners). Slack's retries of an event (same ``event_id``) are recorded once in
``ProcessedDelivery`` (``slack:{event_id}``) and change nothing the second time. Web API calls
go through an ``AsyncWebClient`` with Slack's rate-limit (429 ``Retry-After``), connection and
server-error retry handlers.

Translation only: the intake is :mod:`handlers.intake` (same dialog as Telegram and the
console), commands are :func:`handlers.commands.execute_command`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from handlers import intake
from handlers.dialog import FIELDS, FieldContext, FieldKind, propose_severity
from handlers.dispatch import route
from handlers.i18n import t
from handlers.identity import Identity, Refusal, identify, lookup_contact
from handlers.types import COMMAND_STEP, Incoming, IncomingFile, Reply, Routing
from sla import Policy, load_policy
from storage import deliveries
from storage.clock import Clock, clock_of, system_clock
from storage.db import engine_for, session_scope
from storage.models import Contact, Ticket

from . import slack_blocks as blocks
from .config import Settings
from .routing import intake_config
from .tasks import freeze_startup_heap

log = logging.getLogger("destek.slack")
CHANNEL = "slack"
T = TypeVar("T")

CONDITIONAL = {"attachments_missing_reason", "severity_reason", "remote_access_how",
               "service_category", "severity"}


def make_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: base URL from SLACK_API_URL, Slack's retries built in."""
    return AsyncWebClient(
        token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=15,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


@dataclass
class Posted:
    ticket_id: int
    channel: str
    ts: str


class SlackBot:
    """The Bolt app with Destek's listeners, plus its ASGI app and Socket Mode runner."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine | None = None,
        policy: Policy | None = None,
        clock: Clock = system_clock,
        routing: Routing | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine or engine_for(settings.database_url)
        self.policy = policy or load_policy(settings.policy_path)
        self.clock = clock
        cfg = intake_config(settings, self.policy)
        if routing is not None:
            from dataclasses import replace

            cfg = replace(cfg, routing=routing)
        self.cfg = cfg
        self.routing = cfg.routing
        # Our own Web API calls keep one aiohttp session (kept-alive connections; without one
        # slack_sdk opens and closes a session, so a TCP connection, per call). Bolt gets a
        # client of its own without it: it deep-copies its per-request client for every lazy
        # listener, and a live session must not be copied.
        self.client = make_client(settings)
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self.app = AsyncApp(
            client=make_client(settings),
            signing_secret=settings.slack_signing_secret or "",
            # Verified once: the events endpoint (asgi) checks the signature before Bolt sees
            # the request (Bolt parses first); Socket Mode requests carry none.
            request_verification_enabled=False,
            # The ack listeners are short; running them inline answers Slack at once (no
            # polling for the ack), and the lazy listeners still run after the response.
            process_before_response=True,
        )
        self._http: Any = None  # aiohttp session shared by response_url posts
        self.command_name = settings.slack_command
        # Few database threads: SQLite has one writer (see db()); on PostgreSQL the work in a
        # transaction is mostly Python holding the GIL, so more threads only take it from the
        # event loop. Measured with benchmarks/bench_load.py (200 customers + 50 engineers, no
        # `list`): p99 48-51 ms with 1-2 threads, 100 ms with 3, 131-140 ms with 4-6 (asyncio's
        # default, used before). Two, so one slow transaction does not hold up every other.
        threads = 1 if self.engine.dialect.name == "sqlite" else 2
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="destek-slack-db")
        self._register()

    # -- plumbing --------------------------------------------------------------------------

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(session, *args)`` in one transaction, in a worker thread.

        On SQLite every transaction of this app runs on one thread: SQLite has one writer
        anyway, and a read transaction upgraded to a write while another thread commits fails
        at once with "database is locked" (WAL snapshot), which the busy timeout cannot help.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(self._tx, fn, *args))

    def _tx(self, fn: Callable[..., T], *args: Any) -> T:
        for attempt in range(5):
            try:
                with session_scope(self.engine, self.clock) as session:
                    return fn(session, *args)
            except OperationalError as exc:  # another process holds SQLite's write lock
                if "locked" not in str(exc) or attempt == 4:
                    raise
                time.sleep(0.02 * (attempt + 1))
        raise AssertionError("unreachable")

    def asgi(self) -> Starlette:
        """Starlette app: ``POST /slack/events`` (Bolt) and ``GET /healthz``."""
        from slack_sdk.signature import SignatureVerifier

        handler = AsyncSlackRequestHandler(self.app)
        verifier = SignatureVerifier(self.settings.slack_signing_secret or "")

        async def events(request: Request) -> Response:
            # Bolt parses the body before it checks the signature, and some malformed bodies
            # (e.g. "event": null, "channel": 0) raise inside it: a 500 for anyone. So: the
            # signature first (401, as Bolt answers), then the shape (400), then Bolt (whose
            # own check is off: this is the one).
            body = await _read_capped(request, MAX_BODY_BYTES)
            if body is None:
                return JSONResponse({"ok": False, "error": "payload_too_large"}, status_code=413)
            request = _replayed(request, body)  # Bolt reads the same bytes again
            try:
                signed = verifier.is_valid_request(body, dict(request.headers))
            except ValueError:  # not UTF-8: Slack never sends that
                signed = False
            if not signed:
                return JSONResponse({"ok": False, "error": "invalid_signature"}, status_code=401)
            if not _well_formed(body, request.headers.get("content-type", "")):
                return JSONResponse({"ok": False, "error": "invalid_payload"}, status_code=400)
            return await handler.handle(request)

        async def health(request: Request) -> Response:
            try:
                await self.db(lambda s: s.exec(sql_text("SELECT 1")).one())  # type: ignore[call-overload]
            except Exception as exc:  # noqa: BLE001 - health reports, never raises
                return JSONResponse({"ok": False, "database": str(exc)[:200]}, status_code=503)
            return JSONResponse({"ok": True})

        return Starlette(routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ])

    async def serve_http(self, host: str, port: int) -> None:
        """Serve the ASGI app with uvicorn until cancelled."""
        import uvicorn

        freeze_startup_heap()
        server = uvicorn.Server(uvicorn.Config(self.asgi(), host=host, port=port,
                                               log_level="warning", lifespan="off"))
        await server.serve()

    async def serve_socket_mode(self) -> None:
        """Socket Mode (SLACK_APP_TOKEN): no public URL needed."""
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        handler = AsyncSocketModeHandler(self.app, self.settings.slack_app_token)
        await handler.start_async()

    async def run(self, host: str | None = None, port: int | None = None) -> None:
        """The runner's Slack service: Socket Mode when an app token is set, else HTTP."""
        if self.settings.slack_app_token:
            await self.serve_socket_mode()
        else:
            await self.serve_http(host or self.settings.http_host,
                                  port or self.settings.http_port)

    # -- listeners -------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        app.command(self.command_name)(ack=_ack, lazy=[self._on_command])
        app.event("message")(ack=_ack, lazy=[self._on_message])
        app.event("app_mention")(ack=_ack, lazy=[self._on_mention])
        app.action(re.compile(f"^{blocks.CHOICE_ACTION}\\d+$"))(ack=_ack,
                                                                 lazy=[self._on_choice])
        app.action("ticket_ack")(ack=_ack, lazy=[self._on_card_ack])
        app.action(blocks.FORM_ACTION)(ack=_ack, lazy=[self._on_form_button])
        app.action(re.compile(f"^{blocks.COMMAND_ACTION}\\d+$"))(ack=_ack,
                                                                  lazy=[self._on_command_button])
        app.action(re.compile("^ticket_(pending|resolve)$"))(ack=_ack, lazy=[self._on_card_modal])
        app.view(blocks.VERB_CALLBACK)(ack=self._ack_verb_view, lazy=[self._on_verb_view])
        app.view(blocks.INTAKE_CALLBACK)(ack=self._ack_intake_view, lazy=[self._on_intake_view])

    # slash command ---------------------------------------------------------------------------

    async def _on_command(self, body: dict[str, Any], respond: Any) -> None:
        user = str(body.get("user_id", ""))
        verb, *args = (body.get("text") or "").split() or ["help"]
        if verb.lower() == "new" and body.get("trigger_id"):
            await self._open_intake_modal(body, respond)  # the whole report as one form
            return
        msg = Incoming(CHANNEL, user, chat=body.get("channel_id"), command=verb.lower(),
                       args=tuple(args))
        replies = await self.db(self._route, None, msg)
        for reply in replies or ():
            await self._respond(body, respond, reply, card=verb.lower() == "status")

    def _route(self, session: Session, key: str | None, msg: Incoming) -> list[Reply] | None:
        """The one dispatch, once per delivery ``key`` (None for what Slack never retries)."""
        if key is not None and not _claim(session, key):
            return None
        return route(session, self.cfg, msg, self.clock())

    async def _respond(self, body: Mapping[str, Any], respond: Any, reply: Reply,
                       card: bool = False) -> None:
        """Answer a slash command: ephemeral through response_url, else chat.postEphemeral."""
        ticket = reply.meta.get("ticket")
        # An engineer's `status N` is the ticket's card, with its buttons.
        as_card = card and reply.meta.get("command")
        rendered = (blocks.card_blocks(reply.text, int(ticket)) if as_card and ticket
                    else blocks.reply_blocks(reply))
        if body.get("response_url"):
            await self._webhook(str(body["response_url"]), text=reply.text, blocks=rendered,
                                response_type="ephemeral")
        else:
            await self._call(self.client.chat_postEphemeral, channel=body.get("channel_id"),
                             user=body.get("user_id"), text=reply.text, blocks=rendered)
        chart = Path(reply.meta["file"]) if reply.meta.get("file") else None
        if chart is not None and chart.is_file() and body.get("channel_id"):
            # `/destek report`: the chart is posted to the channel it was asked in.
            await self._call(self.client.files_upload_v2, channel=body.get("channel_id"),
                             file=str(chart), filename=chart.name, title=chart.stem)

    # events ----------------------------------------------------------------------------------

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
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
        files = await self._download(event.get("files") or [])
        await self._handle_dm(key, user, event, files)

    async def _handle_dm(self, key: str, user: str, event: Mapping[str, Any],
                         files: Sequence[IncomingFile]) -> None:
        channel = str(event.get("channel"))
        thread = event.get("thread_ts")
        msg = Incoming(CHANNEL, user, chat=channel, text=event.get("text") or "",
                       thread=thread, files=tuple(files))
        replies = await self.db(self._route, key, msg)
        if replies is None:
            log.info("slack retry of %s ignored", key)
            return
        await self._post_replies(channel, replies, thread, opener=user)
        if any(r.meta.get("started") for r in replies):
            # The same report as one form: a modal needs a button's trigger_id.
            lang = await self.db(lambda s: _language(lookup_contact(s, CHANNEL, user)))
            await self._call(self.client.chat_postMessage, channel=channel,
                             text=t("slack.form.offer", lang),
                             blocks=blocks.form_offer(lang))

    async def _on_mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        key = f"slack:{body.get('event_id') or event.get('ts')}"
        text = re.sub(r"^\s*<@[A-Z0-9]+(\|[^>]*)?>\s*", "", event.get("text") or "")
        verb, *args = text.split() or ["help"]
        channel = str(event.get("channel"))
        thread = event.get("thread_ts") or event.get("ts")
        msg = Incoming(CHANNEL, event.get("user", ""), chat=channel, command=verb.lower(),
                       args=tuple(args), thread=thread)
        replies = await self.db(self._route, key, msg)
        if replies:
            await self._post_replies(channel, replies, thread)

    # buttons ---------------------------------------------------------------------------------

    async def _on_choice(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        step, value = blocks.parse_choice(action.get("value") or "")
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id") or await self._dm_channel(user)
        msg = Incoming(CHANNEL, user, chat=channel, text=value, button_step=step)
        replies = await self.db(self._route, None, msg)
        await self._post_replies(channel, replies or (), None, opener=user)

    async def _on_card_ack(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        await self._button_command(body, f"ack {action.get('value', '')}")

    async def _on_command_button(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        await self._button_command(body, action.get("value") or "help")

    async def _button_command(self, body: dict[str, Any], line: str) -> None:
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id") or await self._dm_channel(user)
        thread = (body.get("message") or {}).get("ts")
        msg = Incoming(CHANNEL, user, chat=channel, text=line, button_step=COMMAND_STEP)
        replies = await self.db(self._route, None, msg)
        await self._post_replies(channel, replies or (), thread, opener=user)

    async def _on_card_modal(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        verb = action["action_id"].removeprefix("ticket_")
        n = int(action.get("value") or 0)
        user = body["user"]["id"]
        lang = await self.db(lambda s: _language(lookup_contact(s, "slack", user)))
        meta = {"channel": (body.get("channel") or {}).get("id"),
                "thread": (body.get("message") or {}).get("ts")}
        await self._call(self.client.views_open, trigger_id=body.get("trigger_id"),
                         view=blocks.verb_modal(verb, n, lang, meta))

    async def _ack_verb_view(self, ack: Any, view: dict[str, Any], body: dict[str, Any]) -> None:
        values = blocks.view_values(view["state"]["values"])
        if not (values.get("text") or "").strip():
            lang = await self.db(lambda s: _language(lookup_contact(s, "slack",
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
        channel = meta.get("channel") or await self._dm_channel(user)
        msg = Incoming(CHANNEL, user, chat=channel, command=str(meta["verb"]), args=tuple(args))
        replies = await self.db(self._route, None, msg)
        await self._post_replies(channel, replies or (), meta.get("thread"))

    # the intake modal --------------------------------------------------------------------------

    async def _on_form_button(self, body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        result = await self.db(self._intake_view_for, user)
        if isinstance(result, str):
            channel = (body.get("channel") or {}).get("id") or await self._dm_channel(user)
            await self._post_replies(channel, [Reply(result)], None)
            return
        await self._call(self.client.views_open, trigger_id=body.get("trigger_id"), view=result)

    async def _open_intake_modal(self, body: Mapping[str, Any], respond: Any) -> None:
        user, trigger_id = str(body.get("user_id", "")), str(body.get("trigger_id", ""))
        result = await self.db(self._intake_view_for, user)
        if isinstance(result, str):
            await self._respond(body, respond, Reply(result))
            return
        await self._call(self.client.views_open, trigger_id=trigger_id, view=result)

    def _intake_view_for(self, session: Session, user: str) -> dict[str, Any] | str:
        who = identify(session, "slack", user, self.clock())
        if isinstance(who, Refusal):
            return who.text
        ctx = FieldContext(session, who, self.policy, {}, who.language, self.clock())
        fields = [(f, f.choices_for(ctx) if f.kind != FieldKind.ATTACHMENTS else [],
                   f.key in CONDITIONAL) for f in FIELDS if f.report]
        return blocks.intake_modal(fields, who.language, {"user": user})

    def _validate_modal(self, session: Session, user: str, values: Mapping[str, Any],
                        ) -> tuple[Identity | Refusal, dict[str, Any], dict[str, str]]:
        who = identify(session, "slack", user, self.clock())
        if isinstance(who, Refusal):
            return who, {}, {}
        # Files from the modal's file input, plus any shared in the DM dialog in progress.
        dialog = intake.get_dialog(session, "slack", user)
        n_files = len(values.get(blocks.ATTACHMENTS_BLOCK) or []) + (
            _dialog_files(session, dialog.id) if dialog is not None else 0)
        raw = {k: v for k, v in values.items() if isinstance(v, str)}
        raw["attachments"] = "done" if n_files else "none"
        answers, errors = intake.validate_answers(session, self.cfg, who, raw, self.clock(),
                                                  attachments=n_files)
        if "severity" in errors and not (raw.get("severity") or "").strip():
            raw["severity"] = propose_severity(answers)  # empty: the severity the answers imply
            answers, errors = intake.validate_answers(session, self.cfg, who, raw,
                                                      self.clock(), attachments=n_files)
        if "attachments_missing_reason" in errors and n_files:
            errors.pop("attachments_missing_reason")
        return who, answers, errors

    async def _ack_intake_view(self, ack: Any, body: dict[str, Any], view: dict[str, Any],
                               ) -> None:
        values = blocks.view_values(view["state"]["values"])
        who, _, errors = await self.db(self._validate_modal, body["user"]["id"], values)
        if isinstance(who, Refusal):
            await ack(response_action="errors", errors={"summary": who.text[:150]})
        elif errors:
            await ack(response_action="errors", errors={
                (blocks.ATTACHMENTS_BLOCK if k == "attachments" else k): v
                for k, v in errors.items()})
        else:
            await ack()

    async def _on_intake_view(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        values = blocks.view_values(view["state"]["values"])
        files = await self._download([{"id": fid} for fid in
                                      values.get(blocks.ATTACHMENTS_BLOCK) or []])
        channel = await self._dm_channel(user)
        replies = await self.db(self._open_from_modal, user, values, channel, files)
        await self._post_replies(channel, replies, None, opener=user)

    def _open_from_modal(self, session: Session, user: str, values: Mapping[str, Any],
                         channel: str, files: Sequence[IncomingFile]) -> list[Reply]:
        who, answers, errors = self._validate_modal(session, user, values)
        if isinstance(who, Refusal):
            return [Reply(who.text)]
        if errors:  # changed since the ack (e.g. a version removed): tell, open nothing
            return [Reply("\n".join(errors.values()))]
        now = self.clock()
        dialog = intake.get_dialog(session, "slack", user)
        opened = intake.open_from_answers(session, self.cfg, who, answers, now, channel="slack",
                                          user_key=user, chat=channel, lang=who.language,
                                          dialog_id=dialog.id if dialog else None)
        if dialog is not None:  # the form replaced the DM conversation in progress
            session.delete(dialog)
        for refused in intake.attach_to_ticket(session, self.cfg, opened.ticket, files,
                                               who.contact, now):
            log.info("file refused on ticket #%s: %s", opened.ticket.id, refused.message("en"))
        return opened.replies

    # Web API -----------------------------------------------------------------------------------

    async def _post_replies(self, channel: str, replies: Sequence[Reply],
                            thread: str | None, opener: str | None = None) -> None:
        """Post replies in order, in ``thread`` when the message came from one; the
        confirmation of a ticket ``opener`` just opened becomes the thread of its later
        updates (P21)."""
        for reply in replies:
            resp = await self._call(self.client.chat_postMessage, channel=channel,
                                    text=reply.text, blocks=blocks.reply_blocks(reply),
                                    thread_ts=thread)
            ticket = reply.meta.get("ticket")
            if resp is not None and ticket and opener and thread is None:
                await self.db(_set_thread, int(ticket), channel, str(resp.get("ts")), opener)

    def _web_session(self) -> None:
        """Give our Web API client a session on the running loop (made on first use: an
        aiohttp session belongs to the loop it was created on)."""
        import aiohttp

        loop = asyncio.get_running_loop()
        session = self.client.session
        if session is None or session.closed or self._session_loop is not loop:
            self.client.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.client.timeout))
            self._session_loop = loop

    async def _call(self, method: Callable[..., Any], **kwargs: Any) -> Any:
        """A Web API call; an error is logged with Slack's error code, never lost silently."""
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        self._web_session()
        try:
            return await method(**kwargs)
        except SlackApiError as exc:
            log.error("slack %s failed: %s", getattr(method, "__name__", method),
                      exc.response.get("error") if exc.response is not None else exc)
        except (TimeoutError, httpx.HTTPError, OSError) as exc:
            log.error("slack %s failed: %s", getattr(method, "__name__", method), exc)
        return None

    async def _webhook(self, url: str, **payload: Any) -> None:
        """Post to a response_url over one kept-alive session (not one connection per post)."""
        import aiohttp
        from slack_sdk.webhook.async_client import AsyncWebhookClient

        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        client = AsyncWebhookClient(url=url, session=self._http, timeout=15)
        try:
            resp = await client.send(**{k: v for k, v in payload.items() if v is not None})
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.error("slack response_url post failed: %s", exc)
            return
        if resp.status_code != 200:
            log.error("slack response_url post failed: %s %s", resp.status_code, resp.body)

    async def close(self) -> None:
        if self._http is not None and not self._http.closed:
            await self._http.close()
        session = getattr(self.client, "session", None)
        if session is not None and not session.closed and self._session_loop is \
                asyncio.get_running_loop():
            await session.close()
        self.client.session = None

    async def _dm_channel(self, user: str) -> str:
        resp = await self._call(self.client.conversations_open, users=user)
        return str(resp["channel"]["id"]) if resp is not None else user

    async def _download(self, files: Sequence[Mapping[str, Any]]) -> list[IncomingFile]:
        """Fetch shared files (files.info, then url_private_download with the bot token)."""
        out: list[IncomingFile] = []
        if not files:
            return out
        async with httpx.AsyncClient(timeout=30) as http:
            for f in files[:10]:
                info = await self._call(self.client.files_info, file=f.get("id"))
                meta = (info or {}).get("file") or f
                url = meta.get("url_private_download") or meta.get("url_private")
                if not url:
                    continue
                try:
                    r = await http.get(url, headers={
                        "Authorization": f"Bearer {self.settings.slack_bot_token}"})
                    r.raise_for_status()
                except httpx.HTTPError as exc:
                    log.error("slack file %s download failed: %s", meta.get("id"), exc)
                    continue
                out.append(IncomingFile(meta.get("name") or "file", r.content,
                                               meta.get("mimetype")))
        return out


async def _ack(ack: Any) -> None:
    await ack()


def _dialog_files(session: Session, dialog_id: int | None) -> int:
    from sqlmodel import col

    from storage.models import Attachment

    return len(session.exec(select(Attachment.id).where(
        Attachment.dialog_id == dialog_id, col(Attachment.ticket_id).is_(None))).all())


_OBJECTS = ("user", "view", "channel", "team", "container", "message", "event", "enterprise")


def _shape_ok(data: Any) -> bool:
    """An object whose well-known parts have the types Bolt assumes."""
    if not isinstance(data, dict):
        return False
    for key in _OBJECTS:
        value = data.get(key)
        if value is not None and not isinstance(value, (dict, str)):
            return False
    if data.get("event") is not None and not _shape_ok(data["event"]):
        return False
    for key in ("type", "text", "ts", "thread_ts", "subtype", "channel_type", "event_ts"):
        if data.get(key) is not None and not isinstance(data[key], str):
            return False
    files = data.get("files")
    if files is not None and not (isinstance(files, list)
                                  and all(isinstance(f, dict) for f in files)):
        return False
    if "event" in data and data["event"] is None:
        return False
    for key in ("actions", "authorizations"):
        value = data.get(key)
        if value is not None and not (isinstance(value, list)
                                      and all(isinstance(v, dict) for v in value)):
            return False
    if data.get("type") in ("block_actions", "interactive_message") and not data.get("actions"):
        return False  # Bolt reads actions[0]
    return True


def _well_formed(body: bytes, content_type: str) -> bool:
    """A body Bolt can route without raising: JSON events and interactivity payloads must be
    objects with objects (or ids) where Slack puts them."""
    from urllib.parse import parse_qs

    try:
        if "json" in content_type.lower():
            return _shape_ok(json.loads(body))
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        if "payload" in form:
            return _shape_ok(json.loads(form["payload"][0]))
    except (ValueError, RecursionError):  # undecodable or absurdly nested
        return False
    return True


# Slack's own requests are a few kB (a modal's state stays well under 100 kB); anything this
# big is refused before it is read into memory, let alone verified or parsed.
MAX_BODY_BYTES = 1 << 20


async def _read_capped(request: Request, limit: int) -> bytes | None:
    """The request body, or None once it is over ``limit`` bytes (declared or streamed)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _replayed(request: Request, body: bytes) -> Request:
    """The same request with its body ready to be read again (by Bolt's adapter)."""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)


def _seen(session: Session, key: str) -> bool:
    return bool(deliveries.seen(session, [key]))


def _claim(session: Session, key: str) -> bool:
    """Record an inbound delivery once; False when it was already processed (a retry)."""
    return deliveries.claim(session, key, clock_of(session)())


def _set_thread(session: Session, ticket_id: int, channel: str, ts: str, opener: str) -> None:
    ticket = session.get(Ticket, ticket_id)
    if (ticket is not None and ticket.channel == "slack" and ticket.channel_user == opener
            and not ticket.channel_thread):
        ticket.channel_chat = channel
        ticket.channel_thread = ts
        session.add(ticket)


def _language(contact: Contact | None) -> str:
    return (contact.language if contact else None) or "en"


class SlackService:
    """The runner's Slack channel: HTTP (uvicorn) or Socket Mode, plus ``send``."""

    name = "slack"

    def __init__(self, bot: SlackBot, host: str, port: int) -> None:
        self.bot = bot
        self.host = host
        self.port = port
        self._server: Any = None
        self._task: asyncio.Task[None] | None = None
        self._socket: Any = None

    async def start(self) -> None:
        settings = self.bot.settings
        if settings.slack_app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self.bot.app, settings.slack_app_token)
            await self._socket.connect_async()
            log.info("slack: socket mode connected")
            return
        import uvicorn

        self._server = uvicorn.Server(uvicorn.Config(
            self.bot.asgi(), host=self.host, port=self.port, log_level="warning",
            lifespan="off"))
        self._task = asyncio.create_task(self._server.serve(), name="slack-http")
        log.info("slack: events on http://%s:%s/slack/events", self.host, self.port)

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            await asyncio.wait([self._task], timeout=5)
        await self.bot.close()

    async def send(self, target: str, reply: Reply) -> None:
        self.bot._web_session()
        await self.bot.client.chat_postMessage(channel=target, text=reply.text,
                                               blocks=blocks.reply_blocks(reply))


def slack_service(ctx: Any) -> SlackService | None:
    """The runner's factory (``bot.runner.RunContext``): None when Slack is not configured."""
    settings: Settings = ctx.settings
    if not settings.slack_bot_token or not (settings.slack_signing_secret
                                            or settings.slack_app_token):
        return None
    bot = SlackBot(settings, engine=ctx.engine, policy=ctx.intake.policy, clock=ctx.now,
                   routing=ctx.intake.routing)
    return SlackService(bot, settings.http_host, settings.http_port)
