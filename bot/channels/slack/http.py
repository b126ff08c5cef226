"""The HTTP side of the Slack app: ``POST /slack/events`` and ``GET /healthz`` (Starlette).

Each request is checked before Bolt sees it, once: its size (413 over 1 MiB, before it is
read), its signature (401, as Bolt answers) and its shape (400 for bodies Bolt would raise on).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def events_app(bolt: AsyncApp, signing_secret: str,
               healthy: Callable[[], Awaitable[str | None]]) -> Starlette:
    """Starlette app: ``POST /slack/events`` (Bolt) and ``GET /healthz`` (``healthy()``
    returns None, or what is wrong)."""
    handler = AsyncSlackRequestHandler(bolt)
    verifier = SignatureVerifier(signing_secret)

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
        problem = await healthy()
        if problem is not None:
            return JSONResponse({"ok": False, "database": problem[:200]}, status_code=503)
        return JSONResponse({"ok": True})

    return Starlette(routes=[
        Route("/slack/events", events, methods=["POST"]),
        Route("/healthz", health, methods=["GET"]),
    ])


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
