"""Hostile input on its way out and files on their way in (#16 items 4 and 6): the bot token
goes only to Slack's file hosts, an oversized file is not read whole, and hostile text relayed
to Slack pings and links nobody. Through the real clients against the fakes on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.channels.outbound import Outgoing
from bot.channels.slack import SlackSender
from bot.channels.slack.webapi import WebApi
from bot.config import Settings

from ..fakes.slack_api import FakeSlackApi
from .conftest import figures

TOKEN = "xoxb-secret-token-1234"


@pytest.fixture
async def thief() -> AsyncIterator[tuple[str, list[str]]]:
    """A server on 127.0.0.1 that records the Authorization header of every request."""
    seen: list[str] = []

    async def grab(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        return web.Response(body=b"stolen")

    app = web.Application()
    app.router.add_get("/{tail:.*}", grab)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


def api_for(slack: FakeSlackApi, max_mb: float = 10.0) -> WebApi:
    return WebApi(Settings(_env_file=None, SLACK_BOT_TOKEN=TOKEN,  # type: ignore[call-arg]
                           SLACK_SIGNING_SECRET="s", SLACK_API_URL=slack.base_url,
                           DESTEK_MAX_ATTACHMENT_MB=max_mb))


async def test_the_bot_token_goes_only_to_slack_file_hosts(
        slack: FakeSlackApi, thief: tuple[str, list[str]]) -> None:
    base, seen = thief
    api = api_for(slack)
    slack.add_file("F0OK", "ok.log", b"fine", "text/plain")
    lures = {"F0EVIL": f"{base}/steal", "F0HTTP": "http://files.slack.com/x",
             "F0LOOK": "https://files.slack.com.evil.example/x",
             "F0PORT": "https://files.slack.com:8443/x", "F0BAD": "https://[::1"}
    for fid, url in lures.items():
        slack.add_file(fid, f"{fid}.log", b"x", "text/plain")
        slack.files[fid]["url_private_download"] = url
    got = await api.download([{"id": "F0OK"}, *({"id": fid} for fid in lures)])
    assert [f.filename for f in got] == ["ok.log"]
    assert seen == []  # the thief never saw a request, let alone the token
    assert api.slack_file_url("https://files.slack.com/files-pri/T1-F1/x.log")
    assert api.slack_file_url("https://files-edu.slack.com/x")
    figures("slack_file_hosts", lures=len(lures), token_leaks=len(seen))


async def test_an_oversized_slack_file_is_not_read_whole(slack: FakeSlackApi) -> None:
    api = api_for(slack, max_mb=0.01)  # 10 KiB
    slack.add_file("F0BIG", "huge.log", b"y" * 2_000_000, "text/plain")
    (f,) = await api.download([{"id": "F0BIG"}])
    assert len(f.data) == api.max_file_bytes + 1  # enough for the intake to say "too big"


async def test_hostile_text_relayed_to_slack_is_inert(slack: FakeSlackApi) -> None:
    sender = SlackSender(TOKEN, slack.base_url)
    hostile = ["<!channel>", "<!here>", "<!everyone>", "<@U0ENG001>", "<#C0ENG>",
               "<https://evil.example|Your bank>", "&lt;already escaped&gt;", "a & b < c > d",
               "*bold* _it_ ~s~ `code`"]
    for i, text in enumerate(hostile):
        await sender.send(Outgoing(i + 1, f"k{i}", "slack", "C0ENG", None, text, False))
    for sent, text in zip(slack.messages, hostile, strict=True):
        assert "<" not in sent["text"] and ">" not in sent["text"]
        assert sent["text"].replace("&lt;", "<").replace("&gt;", ">").replace(
            "&amp;", "&") == text  # read back, exactly what was written
    figures("slack_markup", hostile=len(hostile), pings=0)
