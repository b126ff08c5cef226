"""Our calls to Slack's Web API: one kept-alive session, Slack's retry handlers, errors logged
with Slack's error code (never lost silently), response_url posts, file downloads."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from handlers.types import IncomingFile

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger("destek.slack")


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


# Slack's file hosts (url_private / url_private_download point at them).
SLACK_FILE_HOSTS = frozenset({"files.slack.com", "files-edu.slack.com", "files-gov.slack.com"})


class WebApi:
    """The Web API client of our own calls, with the session it keeps on its event loop."""

    def __init__(self, settings: Settings) -> None:
        # One aiohttp session (kept-alive connections; without one slack_sdk opens and closes
        # a session, so a TCP connection, per call).
        self.client = make_client(settings)
        self.token = settings.slack_bot_token or ""
        self.max_file_bytes = int(settings.max_attachment_mb * 1024 * 1024)
        # Where the bot token may go with a file download: Slack's own file hosts, and the host
        # of SLACK_API_URL (a proxy, or the tests' fake). Never a URL an event merely names.
        api = httpx.URL(settings.slack_api_url)
        self._file_origins = {(api.scheme, api.host, api.port)}
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._http: Any = None  # aiohttp session shared by response_url posts

    def session(self) -> None:
        """Give our Web API client a session on the running loop (made on first use: an
        aiohttp session belongs to the loop it was created on)."""
        import aiohttp

        loop = asyncio.get_running_loop()
        session = self.client.session
        if session is None or session.closed or self._session_loop is not loop:
            self.client.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.client.timeout))
            self._session_loop = loop

    async def call(self, method: Callable[..., Any], **kwargs: Any) -> Any:
        """A Web API call; an error is logged with Slack's error code, never lost silently."""
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        self.session()
        try:
            return await method(**kwargs)
        except SlackApiError as exc:
            log.error("slack %s failed: %s", getattr(method, "__name__", method),
                      exc.response.get("error") if exc.response is not None else exc)
        except (TimeoutError, httpx.HTTPError, OSError) as exc:
            log.error("slack %s failed: %s", getattr(method, "__name__", method), exc)
        return None

    async def webhook(self, url: str, **payload: Any) -> None:
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
        """Close the sessions this client opened on the running loop."""
        if self._http is not None and not self._http.closed:
            await self._http.close()
        session = getattr(self.client, "session", None)
        if session is not None and not session.closed and self._session_loop is \
                asyncio.get_running_loop():
            await session.close()
        self.client.session = None

    async def dm_channel(self, user: str) -> str:
        """The id of the direct-message channel with ``user`` (opened if need be)."""
        resp = await self.call(self.client.conversations_open, users=user)
        return str(resp["channel"]["id"]) if resp is not None else user

    def slack_file_url(self, url: str) -> bool:
        """Whether ``url`` is on one of Slack's file hosts (https), or the configured API's."""
        try:
            u = httpx.URL(url)
        except httpx.InvalidURL:
            return False
        if (u.scheme, u.host, u.port) in self._file_origins:
            return True
        return u.scheme == "https" and u.port in (None, 443) and (
            u.host in SLACK_FILE_HOSTS or u.host.endswith(".slack.com"))

    async def _fetch(self, http: httpx.AsyncClient, url: str,
                     meta: Mapping[str, Any]) -> bytes | None:
        """The file's bytes; a file over the attachment limit is cut at the limit plus one byte
        (the intake then refuses it as too big) rather than read whole into memory."""
        try:
            async with http.stream("GET", url, headers={
                    "Authorization": f"Bearer {self.token}"}) as r:
                r.raise_for_status()
                chunks: list[bytes] = []
                size = 0
                async for chunk in r.aiter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > self.max_file_bytes:
                        break
                return b"".join(chunks)[: self.max_file_bytes + 1]
        except httpx.HTTPError as exc:
            log.error("slack file %s download failed: %s", meta.get("id"), type(exc).__name__)
            return None

    async def download(self, files: Sequence[Mapping[str, Any]]) -> list[IncomingFile]:
        """Fetch shared files (files.info, then url_private_download with the bot token)."""
        out: list[IncomingFile] = []
        if not files:
            return out
        async with httpx.AsyncClient(timeout=30) as http:
            for f in files[:10]:
                info = await self.call(self.client.files_info, file=f.get("id"))
                meta = (info or {}).get("file") or f
                url = meta.get("url_private_download") or meta.get("url_private")
                if not url:
                    continue
                if not self.slack_file_url(str(url)):
                    log.warning("slack file %s: not on a Slack file host; not fetched",
                                meta.get("id"))
                    continue
                data = await self._fetch(http, str(url), meta)
                if data is not None:
                    out.append(IncomingFile(meta.get("name") or "file", data,
                                            meta.get("mimetype")))
        return out
