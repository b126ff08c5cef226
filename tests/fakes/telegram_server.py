"""A small, protocol-accurate fake of the Telegram Bot API (aiohttp on 127.0.0.1).

Speaks the real envelopes (``{"ok": true, "result": ...}``, errors with ``error_code``,
``description`` and ``parameters.retry_after`` for 429), accepts form-encoded, multipart and
JSON requests as the Bot API does, and serves: getMe, getUpdates (offset, limit, long-poll
timeout), sendMessage, editMessageText, answerCallbackQuery, getFile + file download,
setMyCommands, deleteWebhook, setWebhook. Tests inject updates and read what the bot sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

JSON_FIELDS = {"reply_markup", "commands", "allowed_updates", "scope", "entities",
               "link_preview_options", "reply_parameters"}
BOT_USER = {"id": 777000111, "is_bot": True, "first_name": "Destek", "username": "destek_bot",
            "can_join_groups": False, "can_read_all_group_messages": False,
            "supports_inline_queries": False}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    result: Any = None

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    def buttons(self) -> dict[str, str]:
        """Inline buttons of a sent message: label -> callback data."""
        markup = self.params.get("reply_markup") or {}
        return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", [])
                for b in row}


class FakeTelegram:
    """Start with ``await server.start()``; ``base_url``/``file_url`` go to the bot's builder."""

    def __init__(self, token: str = "123456:TEST-TOKEN") -> None:
        self.token = token
        self.updates: list[dict[str, Any]] = []
        self.calls: list[Call] = []
        self.files: dict[str, tuple[str, bytes]] = {}
        self.errors: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.webhook: str | None = None
        # The highest getUpdates offset the bot has sent: every update below it is confirmed
        # (processed, as far as Telegram knows) and forgotten. See ``wait_confirmed``.
        self.confirmed = 0
        self.handed_out: list[int] = []  # update_id of every update getUpdates returned
        self._ids = itertools.count(1)
        self._msg_ids = itertools.count(1000)
        self._file_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._new_call = asyncio.Event()
        self._new_offset = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self._closing = True
        self._new_update.set()  # release pending long polls so the server stops at once
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -- what tests do -------------------------------------------------------------------

    def push(self, update: dict[str, Any], update_id: int | None = None) -> dict[str, Any]:
        """Queue an update (an explicit ``update_id`` lets a test deliver one twice)."""
        update = dict(update)
        update["update_id"] = update_id if update_id is not None else next(self._ids)
        self.updates.append(update)
        self._new_update.set()
        return update

    def _user(self, user_id: int, lang: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"U{user_id}"}
        if lang:
            user["language_code"] = lang
        return user

    def _message(self, user_id: int, lang: str | None, **extra: Any) -> dict[str, Any]:
        return {"message_id": next(self._msg_ids), "date": int(time.time()),
                "chat": {"id": user_id, "type": "private", "first_name": f"U{user_id}"},
                "from": self._user(user_id, lang), **extra}

    def text(self, user_id: int, text: str, lang: str | None = "en",
             update_id: int | None = None, reply_to: int | None = None,
             chat_id: int | None = None) -> dict[str, Any]:
        """A user's text message; ``reply_to``: the id of the bot's message it replies to
        (Telegram then includes that message); ``chat_id``: a group chat instead of the DM."""
        extra: dict[str, Any] = {"text": text}
        if reply_to is not None:
            original = next((c.result for c in self.calls if isinstance(c.result, dict)
                             and c.result.get("message_id") == reply_to), None)
            extra["reply_to_message"] = original or {
                "message_id": reply_to, "date": int(time.time()), "from": BOT_USER,
                "chat": {"id": chat_id or user_id, "type": "private"}, "text": ""}
        if text.startswith("/"):
            extra["entities"] = [{"type": "bot_command", "offset": 0,
                                  "length": len(text.split()[0])}]
        message = self._message(user_id, lang, **extra)
        if chat_id is not None:
            message["chat"] = {"id": chat_id, "type": "group" if chat_id < 0 else "private",
                               "title": "engineers"}
        return self.push({"message": message}, update_id)

    def add_file(self, data: bytes, path: str) -> str:
        file_id = f"FILE{next(self._file_ids)}"
        self.files[file_id] = (path, data)
        return file_id

    def photo(self, user_id: int, data: bytes, caption: str | None = None,
              lang: str | None = "en") -> dict[str, Any]:
        fid = self.add_file(data, f"photos/file_{len(self.files)}.jpg")
        sizes = [{"file_id": fid + "s", "file_unique_id": fid + "us", "width": 90, "height": 60,
                  "file_size": len(data) // 4},
                 {"file_id": fid, "file_unique_id": "u" + fid, "width": 1280, "height": 800,
                  "file_size": len(data)}]
        self.files[fid + "s"] = (f"photos/small_{fid}.jpg", data[: len(data) // 4])
        extra: dict[str, Any] = {"photo": sizes}
        if caption:
            extra["caption"] = caption
        return self.push({"message": self._message(user_id, lang, **extra)})

    def document(self, user_id: int, data: bytes, name: str, mime: str,
                 lang: str | None = "en") -> dict[str, Any]:
        fid = self.add_file(data, f"documents/{name}")
        doc = {"file_id": fid, "file_unique_id": "u" + fid, "file_name": name,
               "mime_type": mime, "file_size": len(data)}
        return self.push({"message": self._message(user_id, lang, document=doc)})

    def press(self, user_id: int, data: str, message: dict[str, Any] | None = None,
              lang: str | None = "en") -> dict[str, Any]:
        """A press on an inline button with ``callback_data`` ``data``."""
        msg = message or {"message_id": 1, "date": int(time.time()),
                          "chat": {"id": user_id, "type": "private"}, "text": "?"}
        msg = {**msg, "from": BOT_USER}
        return self.push({"callback_query": {
            "id": str(next(self._ids) + 10_000_000), "from": self._user(user_id, lang),
            "chat_instance": f"ci{user_id}", "data": data, "message": msg}})

    def fail_next(self, method: str, status: int, description: str,
                  retry_after: int | None = None) -> None:
        """Answer the next call of ``method`` with an error envelope."""
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self.errors.setdefault(method, []).append((status, body))

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method
                and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))]

    async def wait_sent(self, count: int, method: str = "sendMessage",
                        chat_id: int | None = None, timeout: float = 30.0) -> list[Call]:
        """Wait until at least ``count`` calls of ``method`` (to ``chat_id``) arrived."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.sent(method, chat_id)
            if len(got) >= count:
                return got
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{len(got)}/{count} {method} after {timeout}s: "
                                   f"{[c.params.get('text', '')[:60] for c in got]}")
            self._new_call.clear()
            try:
                await asyncio.wait_for(self._new_call.wait(), left)
            except TimeoutError:
                pass

    async def wait_confirmed(self, update_id: int, timeout: float = 30.0) -> None:
        """Wait until the bot confirmed ``update_id`` (a later getUpdates with a higher
        offset): a polling bot asks for the next offset only after it handled the batch."""
        deadline = time.monotonic() + timeout
        while self.confirmed <= update_id:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"update {update_id} not confirmed after {timeout}s "
                                   f"(offset {self.confirmed})")
            self._new_offset.clear()
            try:
                await asyncio.wait_for(self._new_offset.wait(), left)
            except TimeoutError:
                pass

    # -- the API -------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.method == "GET":
            raw: dict[str, Any] = dict(request.query)
        elif request.content_type == "application/json":
            body = await request.read()
            return json.loads(body) if body else {}
        else:
            form = await request.post()
            raw = {}
            for k, v in form.items():
                raw[k] = v.file.read() if hasattr(v, "file") else v
                if hasattr(v, "filename"):  # a multipart file keeps the name it was sent as
                    raw[k + ":filename"] = v.filename
        for k in list(raw):
            if k in JSON_FIELDS and isinstance(raw[k], str):
                raw[k] = json.loads(raw[k])
        return raw

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    async def _api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        queued = self.errors.get(method)
        if queued:
            status, body = queued.pop(0)
            self.calls.append(Call(method + ":error", params))
            return web.json_response(body, status=status)
        handler = getattr(self, "_m_" + method, None)
        if handler is None:
            return web.json_response({"ok": False, "error_code": 404,
                                      "description": "Not Found: method not found"}, status=404)
        result = await handler(params)
        if method != "getUpdates":
            self.calls.append(Call(method, params, result=result))
            self._new_call.set()
        if isinstance(result, web.Response):
            return result
        return self._ok(result)

    async def _m_getMe(self, p: dict[str, Any]) -> Any:
        return BOT_USER

    async def _m_getUpdates(self, p: dict[str, Any]) -> Any:
        offset = int(p.get("offset") or 0)
        limit = int(p.get("limit") or 100)
        timeout = float(p.get("timeout") or 0)
        if self.webhook:
            return web.json_response({"ok": False, "error_code": 409, "description":
                                      "Conflict: can't use getUpdates method while webhook is "
                                      "active; use deleteWebhook to delete the webhook first"},
                                     status=409)
        # Updates below the offset are confirmed: Telegram forgets them.
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            if offset > self.confirmed:
                self.confirmed = offset
                self._new_offset.set()
        deadline = time.monotonic() + timeout
        while not self.updates:
            left = deadline - time.monotonic()
            if left <= 0 or self._closing:
                return []
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), left)
            except TimeoutError:
                return []
        batch = self.updates[:limit]
        self.handed_out += [int(u["update_id"]) for u in batch]
        return batch

    def _sent_message(self, p: dict[str, Any], message_id: int | None = None) -> dict[str, Any]:
        chat_id = int(p["chat_id"])
        msg: dict[str, Any] = {"message_id": message_id or next(self._msg_ids),
                               "date": int(time.time()), "from": BOT_USER,
                               "chat": {"id": chat_id,
                                        "type": "private" if chat_id > 0 else "group"},
                               "text": p.get("text", "")}
        markup = p.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        return msg

    async def _m_sendMessage(self, p: dict[str, Any]) -> Any:
        if not p.get("text"):
            return web.json_response({"ok": False, "error_code": 400,
                                      "description": "Bad Request: message text is empty"},
                                     status=400)
        if len(str(p["text"])) > 4096:
            return web.json_response({"ok": False, "error_code": 400,
                                      "description": "Bad Request: message is too long"},
                                     status=400)
        return self._sent_message(p)

    def _sent_media(self, p: dict[str, Any], field: str) -> dict[str, Any] | web.Response:
        """A sendPhoto / sendDocument: the file must be there, the caption within 1024."""
        if not isinstance(p.get(field), bytes) or not p[field]:
            return web.json_response({"ok": False, "error_code": 400,
                                      "description": f"Bad Request: there is no {field} in "
                                                     "the request"}, status=400)
        if len(str(p.get("caption") or "")) > 1024:
            return web.json_response({"ok": False, "error_code": 400,
                                      "description": "Bad Request: message caption is too long"},
                                     status=400)
        msg = self._sent_message({**p, "text": ""})
        msg.pop("text")
        msg["caption"] = p.get("caption") or ""
        return msg

    async def _m_sendPhoto(self, p: dict[str, Any]) -> Any:
        msg = self._sent_media(p, "photo")
        if isinstance(msg, dict):
            msg["photo"] = [{"file_id": f"photo{msg['message_id']}", "file_unique_id":
                             f"u{msg['message_id']}", "width": 800, "height": 600,
                             "file_size": len(p["photo"])}]
        return msg

    async def _m_sendDocument(self, p: dict[str, Any]) -> Any:
        msg = self._sent_media(p, "document")
        if isinstance(msg, dict):
            msg["document"] = {"file_id": f"doc{msg['message_id']}",
                               "file_unique_id": f"d{msg['message_id']}",
                               "file_name": str(p.get("document:filename") or "file"),
                               "file_size": len(p["document"])}
        return msg

    async def _m_editMessageText(self, p: dict[str, Any]) -> Any:
        return self._sent_message(p, int(p.get("message_id") or 0) or None)

    async def _m_answerCallbackQuery(self, p: dict[str, Any]) -> Any:
        return True

    async def _m_setMyCommands(self, p: dict[str, Any]) -> Any:
        self.commands[str(p.get("language_code") or "")] = p.get("commands") or []
        return True

    async def _m_deleteWebhook(self, p: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def _m_setWebhook(self, p: dict[str, Any]) -> Any:
        self.webhook = str(p.get("url") or "") or None
        return True

    async def _m_getFile(self, p: dict[str, Any]) -> Any:
        fid = str(p.get("file_id"))
        if fid not in self.files:
            return web.json_response({"ok": False, "error_code": 400,
                                      "description": "Bad Request: invalid file_id"}, status=400)
        path, data = self.files[fid]
        return {"file_id": fid, "file_unique_id": "u" + fid, "file_size": len(data),
                "file_path": path}

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        wanted = request.match_info["path"]
        for path, data in self.files.values():
            if path == wanted:
                return web.Response(body=data, content_type="application/octet-stream")
        return web.Response(status=404)
