"""The runner's Slack service: HTTP (uvicorn) or Socket Mode."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from .app import SlackBot

if TYPE_CHECKING:
    from bot.runner import RunContext

log = logging.getLogger("destek.slack")


class SlackService:
    """The runner's Slack channel: HTTP (uvicorn) or Socket Mode."""

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


def slack_service(ctx: RunContext) -> SlackService:
    """The runner's factory (``bot.runner.RunContext``)."""
    settings = ctx.settings
    bot = SlackBot(settings, engine=ctx.engine, policy=ctx.intake.policy, clock=ctx.now,
                   routing=ctx.intake.routing)
    return SlackService(bot, settings.http_host, settings.http_port)
