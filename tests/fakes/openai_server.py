"""A small OpenAI-compatible server on 127.0.0.1 for tests through the real ``openai`` SDK.

``POST /v1/chat/completions`` (and the Azure-style deployment path) answers with a chat
completion carrying a ``usage`` object. Every request's Authorization header and JSON body are
recorded. Replies are configurable per API key: content, delay, or an HTTP error status.
Runs its own event loop in a thread, so sync and async tests can both use it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Behaviour:
    content: str | Callable[[dict[str, Any]], str] = '{"workaround": "", "cited": []}'
    delay: float = 0.0
    status: int = 200
    prompt_tokens: int | None = None
    completion_tokens: int = 25


@dataclass
class Recorded:
    path: str
    authorization: str | None
    api_key_header: str | None
    body: dict[str, Any]
    raw: str


@dataclass
class FakeOpenAI:
    default: Behaviour = field(default_factory=Behaviour)
    by_key: dict[str, Behaviour] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def behaviour_for(self, key: str | None) -> Behaviour:
        return self.by_key.get(key or "", self.default)

    def keys_seen(self) -> list[str | None]:
        with self._lock:
            return [r.authorization.removeprefix("Bearer ") if r.authorization
                    else r.api_key_header for r in self.requests]

    async def _chat(self, request: web.Request) -> web.Response:
        raw = await request.text()
        try:
            body = json.loads(raw)
        except ValueError:
            return web.json_response({"error": {"message": "bad json"}}, status=400)
        auth = request.headers.get("Authorization")
        api_key = request.headers.get("api-key")
        with self._lock:
            self.requests.append(Recorded(request.path, auth, api_key, body, raw))
        key = auth.removeprefix("Bearer ") if auth else api_key
        b = self.behaviour_for(key)
        if b.delay:
            await asyncio.sleep(b.delay)
        if b.status != 200:
            return web.json_response(
                {"error": {"message": "upstream failure", "type": "server_error"}},
                status=b.status, headers={"retry-after-ms": "5"},
            )
        content = b.content(body) if callable(b.content) else b.content
        prompt_tokens = b.prompt_tokens
        if prompt_tokens is None:
            prompt_tokens = sum(len(str(m.get("content", "")).split())
                                for m in body.get("messages", []))
        return web.json_response({
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": b.completion_tokens,
                      "total_tokens": prompt_tokens + b.completion_tokens},
        })

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/openai/deployments/{dep}/chat/completions", self._chat)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        loop.run_until_complete(self._runner.setup())
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        loop.run_until_complete(site.start())
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self._runner.cleanup())
        loop.close()

    def start(self) -> FakeOpenAI:
        self._thread = threading.Thread(target=self._serve, name="fake-openai", daemon=True)
        self._thread.start()
        self._ready.wait(5)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
