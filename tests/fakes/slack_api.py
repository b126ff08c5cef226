"""A protocol-accurate fake of the Slack Web API on 127.0.0.1 (aiohttp), for the real slack_sdk.

Usage::

    fake = FakeSlackApi()
    await fake.start()                      # fake.base_url -> "http://127.0.0.1:PORT/api/"
    client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url)
    ...
    fake.messages                           # chat.postMessage calls, in order
    fake.fail("chat.postMessage", status=429, retry_after=3, times=1)
    await fake.stop()

Answers like Slack: ``{"ok": true, ...}`` with HTTP 200; errors as ``{"ok": false, "error": ...}``;
429 with a ``Retry-After`` header. Arguments are read from form or JSON bodies.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Handler = Callable[["FakeSlackApi", dict[str, Any]], dict[str, Any]]


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.time)


@dataclass
class Failure:
    status: int
    error: str
    retry_after: int | None
    times: int  # how many more calls fail; -1: until cleared


class FakeSlackApi:
    """Fake Slack Web API: start/stop, recorded calls, failure injection, custom handlers."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token  # when set, other tokens get invalid_auth
        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.file_data: dict[str, bytes] = {}  # served at url_private_download (see add_file)
        self.responses: list[dict[str, Any]] = []  # posts to response_url (see response_url)
        self._failures: dict[str, list[Failure]] = {}
        self._handlers: dict[str, Handler] = {
            "chat.postMessage": FakeSlackApi._post_message,
            "chat.postEphemeral": FakeSlackApi._post_ephemeral,
            "chat.update": FakeSlackApi._chat_update,
            "auth.test": lambda self, a: {"user_id": "UBOT", "team_id": "T0TEST", "bot_id": "B01",
                                          "url": "https://fake.slack.com/", "team": "Test"},
            "views.open": FakeSlackApi._view,
            "views.update": FakeSlackApi._view,
            "views.push": FakeSlackApi._view,
            "users.info": FakeSlackApi._users_info,
            "conversations.open": lambda self, a: {
                "channel": {"id": "D" + str(a.get("users", "U")).split(",")[0].lstrip("U")}},
            "files.info": FakeSlackApi._files_info,
            "conversations.history": FakeSlackApi._history,
            "files.getUploadURLExternal": FakeSlackApi._upload_url,
            "files.completeUploadExternal": FakeSlackApi._complete_upload,
            "conversations.replies": FakeSlackApi._replies,
        }
        self.posted: list[dict[str, Any]] = []  # stored messages (history, replies)
        self.uploads: dict[str, dict[str, Any]] = {}  # files.getUploadURLExternal → complete
        self._fids = itertools.count(1)
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, port: int = 0) -> FakeSlackApi:
        app = web.Application()
        app.router.add_post("/api/{method}", self._dispatch)
        app.router.add_get("/api/{method}", self._dispatch)
        app.router.add_get("/files/{fid}", self._download)
        app.router.add_post("/upload/{fid}", self._receive_upload)
        app.router.add_post("/respond/{key}", self._respond)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlackApi:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    # -- inspection and control --------------------------------------------------------------

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Arguments of every successful chat.postMessage."""
        return [c.args for c in self.calls if c.method == "chat.postMessage"]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def fail(self, method: str, status: int = 500, error: str = "internal_error",
             retry_after: int | None = None, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` fail (``times=-1``: until ``clear``)."""
        self._failures.setdefault(method, []).append(Failure(status, error, retry_after, times))

    def clear_failures(self) -> None:
        self._failures.clear()

    def on(self, method: str, handler: Handler) -> None:
        """Answer ``method`` with ``handler(fake, args) -> dict`` (``ok`` is added)."""
        self._handlers[method] = handler

    def add_file(self, fid: str, name: str, data: bytes, mimetype: str) -> dict[str, Any]:
        """A file users shared: answered by files.info, downloadable with a bot token."""
        info = {"id": fid, "name": name, "mimetype": mimetype, "size": len(data),
                "url_private_download": f"http://127.0.0.1:{self.port}/files/{fid}"}
        self.files[fid] = info
        self.file_data[fid] = data
        return info

    def response_url(self, key: str) -> str:
        """A slash command's response_url; posts to it land in ``responses``."""
        return f"http://127.0.0.1:{self.port}/respond/{key}"

    # -- protocol ----------------------------------------------------------------------------

    async def _download(self, request: web.Request) -> web.Response:
        fid = request.match_info["fid"]
        if fid not in self.file_data or not request.headers.get("Authorization"):
            return web.Response(status=404)
        return web.Response(body=self.file_data[fid], content_type="application/octet-stream")

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append({"key": request.match_info["key"], **body})
        return web.Response(text="ok")

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    args.update(body)
            else:
                form = await request.post()
                args.update({k: v for k, v in form.items() if isinstance(v, str)})
        return args

    async def _dispatch(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() or args.get("token")
        failures = self._failures.get(method)
        if failures:
            f = failures[0]
            if f.times > 0:
                f.times -= 1
                if f.times == 0:
                    failures.pop(0)
            headers = {"Retry-After": str(f.retry_after)} if f.retry_after is not None else {}
            error = "ratelimited" if f.status == 429 else f.error
            return web.json_response({"ok": False, "error": error}, status=f.status,
                                     headers=headers)
        if self.token is not None and token != self.token:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        handler = self._handlers.get(method)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)
        try:
            result = handler(self, args)
        except SlackError as exc:
            return web.json_response({"ok": False, "error": exc.error})
        self.calls.append(Call(method, args, token))
        return web.Response(text=json.dumps({"ok": True, **result}),
                            content_type="application/json")

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            raise SlackError("channel_not_found")
        if not args.get("text") and not args.get("blocks"):
            raise SlackError("no_text")
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        meta = args.get("metadata")
        if isinstance(meta, str):
            meta = json.loads(meta)
        self.posted.append({"channel": channel, "ts": ts, "text": args.get("text"),
                            "thread_ts": args.get("thread_ts"), "metadata": meta,
                            "at": time.time()})
        return {"channel": channel, "ts": ts,
                "message": {"text": args.get("text"), "ts": ts, "user": "UBOT",
                            "thread_ts": args.get("thread_ts")}}

    def _post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        """chat.postEphemeral: seen by ``user`` alone, never stored in the conversation."""
        if not args.get("channel"):
            raise SlackError("channel_not_found")
        if not args.get("user"):
            raise SlackError("user_not_found")
        if not args.get("text") and not args.get("blocks"):
            raise SlackError("no_text")
        return {"message_ts": f"{int(time.time())}.{next(self._ts):06d}"}

    @property
    def ephemerals(self) -> list[dict[str, Any]]:
        """Arguments of every successful chat.postEphemeral."""
        return [c.args for c in self.calls if c.method == "chat.postEphemeral"]

    def _upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        """Step 1 of Slack's external upload: a one-time URL for the bytes."""
        if not args.get("filename") or not str(args.get("length") or "").isdigit():
            raise SlackError("invalid_arguments")
        fid = f"F{next(self._fids):08d}"
        self.uploads[fid] = {"id": fid, "name": args["filename"], "length": int(args["length"]),
                             "data": None, "shared": None}
        return {"upload_url": f"http://127.0.0.1:{self.port}/upload/{fid}", "file_id": fid}

    async def _receive_upload(self, request: web.Request) -> web.Response:
        """Step 2: the bytes, posted to the upload URL (answers ``OK - <length>``)."""
        up = self.uploads.get(request.match_info["fid"])
        if up is None:
            return web.Response(status=404, text="not found")
        data = await request.read()
        up["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    def _complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        """Step 3: share the uploaded files in a channel, with the message text."""
        files = args.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        out = []
        for f in files or []:
            up = self.uploads.get(f.get("id"))
            if up is None or up["data"] is None:
                raise SlackError("file_not_found")
            up.update(shared=args.get("channel_id"), title=f.get("title"),
                      comment=args.get("initial_comment"), thread_ts=args.get("thread_ts"))
            out.append({"id": up["id"], "name": up["name"], "title": f.get("title")})
        if not out:
            raise SlackError("invalid_arguments")
        return {"files": out}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"channel": args.get("channel"), "ts": args.get("ts"), "text": args.get("text")}

    def _view(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        vid = args.get("view_id") or f"V{next(self._ts):08d}"
        return {"view": {**(view or {}), "id": vid}}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        uid = str(args.get("user", ""))
        user = self.users.get(uid)
        if user is None:
            raise SlackError("user_not_found")
        return {"user": {"id": uid, **user}}

    def _stored(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        """Messages of a conversation (a post to user Uxxx lands in the IM Dxxx), newest
        first, from ``oldest`` on; metadata only with ``include_all_metadata``."""
        channel = str(args.get("channel", ""))
        if not channel:
            raise SlackError("channel_not_found")
        names = {channel} | ({"U" + channel[1:]} if channel.startswith("D") else set())
        oldest = float(args.get("oldest") or 0)
        with_meta = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        out = []
        for m in reversed(self.posted):
            if m["channel"] in names and float(m["ts"]) >= oldest:
                msg = {"type": "message", "user": "UBOT", "text": m["text"], "ts": m["ts"],
                       "thread_ts": m["thread_ts"]}
                if with_meta and m["metadata"]:
                    msg["metadata"] = m["metadata"]
                out.append(msg)
        return out

    def _page(self, messages: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        page = messages[start:start + limit]
        more = start + limit < len(messages)
        return {"messages": page, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _history(self, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.history: top-level messages (thread replies are not included)."""
        return self._page([m for m in self._stored(args)
                           if not m["thread_ts"] or m["thread_ts"] == m["ts"]], args)

    def _replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.replies: the parent's thread (replies oldest first)."""
        ts = str(args.get("ts", ""))
        thread = [m for m in self._stored(args) if m["thread_ts"] == ts or m["ts"] == ts]
        return self._page(list(reversed(thread)), args)

    def _files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        fid = str(args.get("file", ""))
        f = self.files.get(fid)
        if f is None:
            raise SlackError("file_not_found")
        return {"file": {"id": fid, **f}}


class SlackError(Exception):
    """Raise from a handler to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


# -- events as Slack sends them ---------------------------------------------------------------

HOME_TEAM = "T0TEST"  # the team auth.test answers: the app's install
BOT_USER = "UBOT"


def event_envelope(event: dict[str, Any], event_id: str, *, shared: bool = False,
                   team: str = HOME_TEAM) -> dict[str, Any]:
    """The Events API wrapper of ``event`` as the app's install receives it: ``team_id`` and
    ``authorizations`` are the install's (the vendor's team, its bot user), whatever team the
    writer belongs to; ``is_ext_shared_channel`` is true in a Slack Connect channel."""
    return {
        "token": "x", "team_id": team, "context_team_id": team,
        "context_enterprise_id": None, "api_app_id": "A0DESTEK", "event": event,
        "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": team, "user_id": BOT_USER,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": shared, "event_context": f"4-{event_id}",
    }


def channel_message(channel: str, user: str, user_team: str, text: str, ts: str, *,
                    thread_ts: str | None = None, channel_type: str = "channel",
                    mention: bool = False, **extra: Any) -> dict[str, Any]:
    """A person's message in a channel (``message.channels``; ``app_mention`` when
    ``mention``): a user of another team carries that team in ``team``, ``user_team`` and
    ``source_team``, as Slack sends messages in a shared channel."""
    event: dict[str, Any] = {
        "type": "app_mention" if mention else "message", "user": user, "text": text,
        "ts": ts, "team": user_team, "user_team": user_team, "source_team": user_team,
        "channel": channel, "event_ts": ts, "client_msg_id": f"m-{ts}",
        "blocks": [{"type": "rich_text", "block_id": "b", "elements": [
            {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}]}],
        "user_profile": {"real_name": user, "team": user_team},
    }
    if not mention:
        event["channel_type"] = channel_type
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = BOT_USER
    event.update(extra)
    return event
