"""Slash commands per second through the whole Slack path, against a bare Bolt app.

Full path: signed HTTP request -> uvicorn -> Starlette -> Bolt (signature check, ack) -> lazy
listener -> handlers.commands -> SQLite/PostgreSQL -> reply posted to the response_url of a fake
Slack server. The bare app is the same Bolt + Starlette + uvicorn stack whose listener only
acks and posts a fixed reply the same way. Each app runs in its own process (uvicorn), the load
generator and the fake Slack server in this one; same machine, same run.

A request counts as done when its reply reaches the fake server; latency is measured from
sending the request to that moment. Prints both rates, the ratio and p50/p99 latencies, and
the CPU seconds (user + system, from /proc/PID/stat) each server process spent per command
over the measured requests, with their ratio.

    python benchmarks/bench_slack.py [--requests 1500] [--concurrency 4] [--database-url URL]

Goals (issue): full >= 0.5 x bare, p99 < 50 ms, >= 200 requests/s on SQLite, and CPU per
command at most 1.5 x the bare app's.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-signing-secret"
ENGINEER = "U0ENG002"  # Can Öztürk in the demo data


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the servers (run in a child process) -----------------------------------------------------


async def serve_slack(bot: Any, port: int) -> None:
    """Serve a :class:`bot.channels.slack.SlackBot` as `destek run` does, until killed."""
    from bot.channels.slack import SlackService
    from bot.jobs.tasks import freeze_startup_heap

    await SlackService(bot, "127.0.0.1", port).start()
    freeze_startup_heap()
    await asyncio.Event().wait()


def serve(kind: str, port: int, api_url: str, database_url: str) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    if kind == "full":
        from bot.channels.slack import SlackBot
        from bot.config import Settings

        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            DATABASE_URL=database_url, SLACK_BOT_TOKEN="xoxb-bench",
            SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=api_url,
            DESTEK_DATA_DIR=tempfile.mkdtemp(prefix="destek-bench-"),
        )
        asyncio.run(serve_slack(SlackBot(settings), port))
        return
    import uvicorn
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    # Same Bolt options as Destek's app (acks inline, lazy listener after the response).
    app = AsyncApp(client=AsyncWebClient(token="xoxb-bench", base_url=api_url),
                   signing_secret=SECRET, process_before_response=True)

    async def ack(ack):  # type: ignore[no-untyped-def]
        await ack()

    async def reply(respond):  # type: ignore[no-untyped-def]
        await respond(text="ok", response_type="ephemeral")

    app.command("/destek")(ack=ack, lazy=[reply])
    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    web = Starlette(routes=[Route("/slack/events", events, methods=["POST"]),
                            Route("/healthz", health, methods=["GET"])])
    uvicorn.run(web, host="127.0.0.1", port=port, log_level="warning", lifespan="off")


# -- the load generator ------------------------------------------------------------------------


class Replies:
    """Futures resolved when a reply reaches the fake server's response_url."""

    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[float]] = {}

    def expect(self, key: str) -> asyncio.Future[float]:
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[key] = fut
        return fut

    def arrived(self, key: str) -> None:
        fut = self.waiting.pop(key, None)
        if fut is not None and not fut.done():
            fut.set_result(time.perf_counter())


async def start_fake(replies: Replies) -> tuple[object, int]:
    from aiohttp import web

    from tests.fakes.slack_api import FakeSlackApi

    class BenchFake(FakeSlackApi):
        async def _respond(self, request: web.Request) -> web.Response:
            await request.read()
            replies.arrived(request.match_info["key"])
            return web.Response(text="ok")

    fake = BenchFake()
    await fake.start()
    return fake, fake.port


def signed_command(verifier: SignatureVerifier, text: str, response_url: str,
                   i: int) -> tuple[str, dict[str, str]]:
    """The form body and headers of the engineer's ``/destek TEXT``, signed as Slack does."""
    body = urlencode({
        "token": "x", "team_id": "T0TEST", "team_domain": "bench",
        "channel_id": "C0ENG", "channel_name": "support", "user_id": ENGINEER,
        "user_name": "can", "command": "/destek", "text": text,
        "api_app_id": "A0DESTEK", "trigger_id": f"t.{i}", "response_url": response_url,
    })
    stamp = str(int(time.time()))
    return body, {"content-type": "application/x-www-form-urlencoded",
                  "x-slack-request-timestamp": stamp,
                  "x-slack-signature": verifier.generate_signature(timestamp=stamp, body=body)}


async def load(port: int, fake_port: int, replies: Replies, requests: int, concurrency: int,
               commands: list[str]) -> tuple[float, list[float]]:
    import httpx

    verifier = SignatureVerifier(SECRET)
    counter = itertools.count()
    latencies: list[float] = []
    url = f"http://127.0.0.1:{port}/slack/events"

    async def worker(client: httpx.AsyncClient) -> None:
        while True:
            i = next(counter)
            if i >= requests:
                return
            key = f"k{i}"
            body, headers = signed_command(verifier, commands[i % len(commands)],
                                           f"http://127.0.0.1:{fake_port}/respond/{key}", i)
            fut = replies.expect(key)
            started = time.perf_counter()
            resp = await client.post(url, content=body, headers=headers)
            if resp.status_code != 200:
                raise RuntimeError(f"HTTP {resp.status_code}: {resp.text[:200]}")
            done = await asyncio.wait_for(fut, timeout=30)
            latencies.append(done - started)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    return elapsed, latencies


def spawn(kind: str, port: int, api_url: str, database_url: str,
          script: str = __file__) -> subprocess.Popen[bytes]:
    """``script --serve KIND ...`` in a child process (each benchmark serves its own kinds)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, script, "--serve", kind, "--port", str(port), "--api-url", api_url,
         "--database-url", database_url], env=env, cwd=str(ROOT))


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process (all its threads) has used so far (Linux /proc)."""
    # Fields after the command name, which is in parentheses and may contain spaces.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


async def wait_healthy(port: int) -> None:
    import httpx

    async with httpx.AsyncClient() as client:
        for _ in range(1200):  # start-up (imports, a cold disk) is not measured: up to 60 s
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"server on {port} did not start")


def prepare_database(url: str | None) -> str:
    from sqlmodel import Session

    from bot.demo import seed
    from sla import load_policy
    from storage.db import make_engine, upgrade

    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='destek-bench-')}/destek.db"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as s:
        seed(s, load_policy(), datetime.now(UTC))
        s.commit()
    engine.dispose()
    return url


async def measure(
    kind: str, api_url: str, database_url: str, fake_port: int, replies: Replies,
    requests: int, concurrency: int, commands: list[str],
) -> tuple[float, list[float], float]:
    """Elapsed seconds, latencies, and the server process's CPU seconds per command (all
    three over the measured requests only, after a warm-up)."""
    port = free_port()
    proc = spawn(kind, port, api_url, database_url)
    try:
        await wait_healthy(port)
        await load(port, fake_port, replies, max(20, requests // 10), concurrency, commands)
        await asyncio.sleep(0.2)  # let the warm-up's last lazy listeners finish
        cpu0 = cpu_seconds(proc.pid)
        elapsed, latencies = await load(port, fake_port, replies, requests, concurrency,
                                        commands)
        cpu = cpu_seconds(proc.pid) - cpu0
        return elapsed, latencies, cpu / max(1, len(latencies))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def main_async(args: argparse.Namespace) -> int:
    database_url = prepare_database(args.database_url)
    replies = Replies()
    fake, fake_port = await start_fake(replies)
    api_url = f"http://127.0.0.1:{fake_port}/api/"
    commands = ["status 1", "note 2 benchmark note", "list", "status 2"]
    try:
        bare_t, bare_lat, bare_cpu = await measure(
            "bare", api_url, database_url, fake_port, replies, args.requests, args.concurrency,
            commands)
        full_t, full_lat, full_cpu = await measure(
            "full", api_url, database_url, fake_port, replies, args.requests, args.concurrency,
            commands)
    finally:
        await fake.stop()  # type: ignore[attr-defined]
    bare_rate = len(bare_lat) / bare_t
    full_rate = len(full_lat) / full_t
    db = database_url.split(":", 1)[0]
    print(f"database: {db}; {args.requests} signed slash commands, concurrency {args.concurrency}")
    print(f"bare Bolt app (ack + post): {bare_rate:8.1f} req/s  p50 {pct(bare_lat, .5):5.1f} ms"
          f"  p99 {pct(bare_lat, .99):5.1f} ms  CPU {bare_cpu * 1000:5.2f} ms/command")
    print(f"Destek full path          : {full_rate:8.1f} req/s  p50 {pct(full_lat, .5):5.1f} ms"
          f"  p99 {pct(full_lat, .99):5.1f} ms  CPU {full_cpu * 1000:5.2f} ms/command")
    ratio = full_rate / bare_rate
    cpu_ratio = full_cpu / bare_cpu
    print(f"ratio full/bare: {ratio:.2f}   CPU per command full/bare: {cpu_ratio:.2f}")
    ok = ratio >= 0.5 and pct(full_lat, .99) < 50 and full_rate >= 200 and cpu_ratio <= 1.5
    print("goals (ratio >= 0.5, p99 < 50 ms, >= 200 req/s, CPU ratio <= 1.5): "
          + ("met" if ok else "NOT met"))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--serve", choices=["full", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.api_url, args.database_url)
        return 0
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
