"""Load: customers in the intake dialog and engineers issuing commands, on PostgreSQL.

200 customers (DM message events, and the product button) walk through the report dialog and
start again once their ticket is open; 50 engineers issue slash commands (list, status, note,
ack) on the tickets. Everything goes through the real path: signed HTTP request -> uvicorn ->
Bolt -> handlers -> PostgreSQL -> reply posted to a fake Slack Web API (in this process). The
Slack app runs in its own process(es) (``--replicas``: several behind a round-robin client,
each stateless), against a throwaway PostgreSQL 15 (tests/pg.py) unless ``--database-url``.

Latency is from sending a request to the first reply reaching the fake Slack server (a
customer waits for it, thinks, answers; an engineer gets the command's response_url post).
Errors: non-200 answers, replies that never come (10 s) and dialog steps the bot re-asks.
The generator reads each customer's dialog step from the database to pick the right answer
(as a person reads the question); that read is not timed.

    python benchmarks/bench_load.py [--duration 60] [--customers 200] [--engineers 50]
                                    [--think 2.0] [--replicas 1] [--database-url URL]
                                    [--commands status,list,note]

``DESTEK_LOAD_TRACE=1`` prints the server's database transactions by kind (count, total, p50,
p99) when it stops; ``DESTEK_LOAD_PROFILE=PATH`` writes a cProfile of the server to PATH.PORT.

Goal (issue): zero errors, p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-signing-secret"

ANSWERS = {
    "summary": "IVR plays no prompt to callers",
    "selfhelp": "continue",
    "version_text": "4.2",
    "environment": "production",
    "description": "Since 09:10 the voice bot plays no prompt; callers hear silence.",
    "steps": "Call the main IVR number.",
    "error_text": "TTS engine timeout",
    "product_id": "Voice Bot",
    "attachments": "none",
    "attachments_missing_reason": "no logs on this system",
    "production_down": "no",
    "workaround_available": "yes",
    "users_affected": "3",
    "severity": "S3",
    "remote_access": "yes",
    "remote_access_how": "VPN and RDP",
    "kind": "defect",
    "confirm": "confirm",
}


def customer_id(i: int) -> str:
    return f"UL{i:05d}"


def engineer_id(i: int) -> str:
    return f"UE{i:05d}"


# -- the server (child process) ---------------------------------------------------------------


def serve(port: int, api_url: str, database_url: str) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    from bot.channels.slack import SlackBot
    from bot.config import Settings

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=database_url, SLACK_BOT_TOKEN="xoxb-bench", SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api_url, DESTEK_DATA_DIR=Path(tempfile.mkdtemp(prefix="destek-load-")),
        DESTEK_ENGINEERS_SLACK_CHANNEL="C0ENG",
    )
    if os.environ.get("DESTEK_LOAD_TRACE"):  # where the server's time goes, per transaction
        from bot.channels.pipeline import Pipeline

        _trace_transactions(Pipeline)
    profile = os.environ.get("DESTEK_LOAD_PROFILE")  # a path: cProfile the server into it
    from bench_slack import serve_slack

    if not profile:
        asyncio.run(serve_slack(SlackBot(settings), port))
        return
    import cProfile
    import signal

    prof = cProfile.Profile()

    def dump(*_: Any) -> None:  # uvicorn re-raises SIGTERM once it has stopped
        prof.disable()
        prof.dump_stats(f"{profile}.{port}")
        os._exit(0)

    signal.signal(signal.SIGTERM, dump)
    prof.enable()
    asyncio.run(serve_slack(SlackBot(settings), port))
    dump()


def _trace_transactions(pipeline_class: Any) -> None:
    """Time every database transaction of the server by what ran in it (and the command's
    verb), and the garbage collector's pauses; print a table when the server stops (SIGTERM)."""
    import atexit
    import signal

    spent: dict[str, list[float]] = defaultdict(list)
    original = pipeline_class.tx

    def timed(self: Any, fn: Any, *args: Any) -> Any:
        name = getattr(fn, "__name__", "?")
        msg = args[1] if name == "dispatch_in" and len(args) > 1 else None
        if msg is not None:
            name += ":" + (msg.command or "text")
        started = time.perf_counter()
        try:
            return original(self, fn, *args)
        finally:
            spent[name].append(time.perf_counter() - started)

    def report(*_: Any) -> None:
        for name, values in sorted(spent.items(), key=lambda kv: -sum(kv[1])):
            print(f"  tx {name:28s} n={len(values):6d} total {sum(values):7.2f} s  "
                  f"p50 {pct(values, 0.5):7.1f} ms  p99 {pct(values, 0.99):7.1f} ms  "
                  f"max {max(values) * 1000:7.1f} ms", file=sys.stderr, flush=True)
        os._exit(0)

    pipeline_class.tx = timed
    import gc

    gc_started: list[float] = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:  # pauses of the whole process
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            took = time.perf_counter() - gc_started[0]
            spent[f"(gc gen{info['generation']} pause)"].append(took)
            if info["generation"] == 2 and os.environ.get("DESTEK_LOAD_TRACE") == "2":
                print(f"  gc gen2 pause {took * 1000:.1f} ms at {time.time():.1f}, "
                      f"{len(gc.get_objects())} objects tracked", file=sys.stderr, flush=True)

    gc.callbacks.append(on_gc)
    atexit.register(report)
    signal.signal(signal.SIGTERM, report)


def spawn(port: int, api_url: str, database_url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, __file__, "--serve", "--port", str(port), "--api-url", api_url,
         "--database-url", database_url],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=str(ROOT))


# -- the database -----------------------------------------------------------------------------


def prepare_database(url: str, customers: int, engineers: int) -> None:
    from sqlmodel import Session

    from bot.demo import seed
    from sla import load_policy
    from storage.db import make_engine, upgrade
    from storage.directory import add_contact

    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as s:
        seed(s, load_policy(), datetime.now(UTC))
        for i in range(customers):
            add_contact(s, "ACME", f"Load Customer {i}", trained=True, language="en",
                        slack_id=customer_id(i))
        for i in range(engineers):
            add_contact(s, None, f"Load Engineer {i}", role="engineer", language="en",
                        slack_id=engineer_id(i))
        s.commit()
    engine.dispose()


# -- the fake Slack server and the clients ------------------------------------------------------


class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.samples: dict[str, str] = {}
        self.tickets = 0

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        self.samples.setdefault(kind, detail[:300])


class Inbox:
    """Messages posted to each DM channel, and response_url posts, as they arrive."""

    def __init__(self) -> None:
        self.queues: dict[str, asyncio.Queue[tuple[float, dict[str, Any]]]] = defaultdict(
            asyncio.Queue)
        self.responses: dict[str, asyncio.Future[float]] = {}

    def posted(self, args: dict[str, Any]) -> None:
        self.queues[str(args.get("channel"))].put_nowait((time.perf_counter(), args))

    def expect(self, key: str) -> asyncio.Future[float]:
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.responses[key] = fut
        return fut

    def responded(self, key: str) -> None:
        fut = self.responses.pop(key, None)
        if fut is not None and not fut.done():
            fut.set_result(time.perf_counter())


async def start_fake(inbox: Inbox) -> Any:
    from aiohttp import web

    from tests.fakes.slack_api import FakeSlackApi

    class LoadFake(FakeSlackApi):
        def __init__(self) -> None:
            super().__init__()
            base = FakeSlackApi._post_message

            def post(fake: FakeSlackApi, args: dict[str, Any]) -> dict[str, Any]:
                result = base(fake, args)
                inbox.posted(args)
                return result

            self.on("chat.postMessage", post)

        async def _dispatch(self, request: web.Request) -> web.Response:
            resp = await super()._dispatch(request)
            if len(self.calls) > 1000:  # keep memory flat over a long run
                del self.calls[:500]
                del self.posted[:500]
            return resp

        async def _respond(self, request: web.Request) -> web.Response:
            await request.read()
            inbox.responded(request.match_info["key"])
            return web.Response(text="ok")

    fake = LoadFake()
    await fake.start()
    return fake


class Client:
    def __init__(self, ports: list[int], fake_port: int) -> None:
        import httpx
        from slack_sdk.signature import SignatureVerifier

        self.urls = itertools.cycle([f"http://127.0.0.1:{p}/slack/events" for p in ports])
        self.fake_port = fake_port
        self.verifier = SignatureVerifier(SECRET)
        self.http = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=300))
        self.ids = itertools.count(1)

    async def post(self, body: str, ctype: str) -> int:
        stamp = str(int(time.time()))
        signature = self.verifier.generate_signature(timestamp=stamp, body=body) or ""
        headers = {"content-type": ctype, "x-slack-request-timestamp": stamp,
                   "x-slack-signature": signature}
        resp = await self.http.post(next(self.urls), content=body, headers=headers)
        return resp.status_code

    async def dm(self, user: str, text: str) -> int:
        ev = {"type": "message", "channel": "D" + user[1:], "user": user, "text": text,
              "ts": f"{time.time():.6f}", "channel_type": "im"}
        body = json.dumps({
            "token": "x", "team_id": "T0TEST", "api_app_id": "A0DESTEK", "event": ev,
            "type": "event_callback", "event_id": f"Ev{next(self.ids):010d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T0TEST", "user_id": "UBOT", "is_bot": True}],
        })
        return await self.post(body, "application/json")

    async def press(self, user: str, action_id: str, value: str) -> int:
        channel = "D" + user[1:]
        payload = {
            "type": "block_actions", "team": {"id": "T0TEST"}, "api_app_id": "A0DESTEK",
            "token": "x", "user": {"id": user}, "trigger_id": f"trig.{next(self.ids)}",
            "channel": {"id": channel}, "message": {"ts": "1.000001", "text": "card"},
            "container": {"type": "message", "message_ts": "1.000001", "channel_id": channel},
            "actions": [{"action_id": action_id, "block_id": "b", "type": "button",
                         "value": value, "action_ts": str(time.time())}],
        }
        return await self.post(urlencode({"payload": json.dumps(payload)}),
                               "application/x-www-form-urlencoded")

    async def command(self, user: str, text: str, key: str) -> int:
        body = urlencode({
            "token": "x", "team_id": "T0TEST", "team_domain": "load", "channel_id": "C0ENG",
            "channel_name": "support", "user_id": user, "user_name": user.lower(),
            "command": "/destek", "text": text, "api_app_id": "A0DESTEK",
            "response_url": f"http://127.0.0.1:{self.fake_port}/respond/{key}",
            "trigger_id": f"t.{key}",
        })
        return await self.post(body, "application/x-www-form-urlencoded")


def _button(args: dict[str, Any], answer: str) -> tuple[str, str] | None:
    """The button of the last message whose label or choice value is ``answer``."""
    raw = args.get("blocks")
    blocks = json.loads(raw) if isinstance(raw, str) else raw or []
    for b in blocks:
        for el in b.get("elements") or []:
            if el.get("type") != "button":
                continue
            try:
                value = json.loads(el.get("value") or "{}").get("v")
            except (ValueError, AttributeError):
                value = None
            label = el.get("text", {}).get("text", "")
            if answer.lower() in (str(value).lower(), label.lower()):
                return str(el["action_id"]), str(el["value"])
    return None


async def customer(i: int, client: Client, inbox: Inbox, stats: Stats, engine: Any,
                   until: float, think: float) -> None:
    from sqlmodel import Session, select

    from storage.models import DialogSession

    user = customer_id(i)
    queue = inbox.queues["D" + user[1:]]
    last: dict[str, Any] = {}
    await asyncio.sleep(random.uniform(0, think))

    def step() -> str | None:
        with Session(engine) as s:
            row = s.exec(select(DialogSession.step).where(
                DialogSession.channel == "slack", DialogSession.user_key == user)).first()
            return row

    current: str | None = None
    previous: str | None = None
    while time.perf_counter() < until:
        current = await asyncio.to_thread(step)
        if current is not None and current == previous:
            stats.error("re-asked", f"step {current} asked again")
        while not queue.empty():
            _, last = queue.get_nowait()
        started = time.perf_counter()
        if current is None:
            if previous is not None:
                stats.tickets += 1
            status = await client.dm(user, "hello")
            kind = "dialog"
        elif (button := _button(last, ANSWERS.get(current, "continue"))) is not None:
            status = await client.press(user, *button)
            kind = "button"
        else:
            status = await client.dm(user, ANSWERS.get(current, "continue"))
            kind = "dialog"
        previous = current
        if status != 200:
            stats.error("http", f"{kind} HTTP {status}")
            await asyncio.sleep(think)
            continue
        try:
            arrived, last = await asyncio.wait_for(queue.get(), timeout=10)
        except TimeoutError:
            stats.error("no-reply", f"{user} at step {current}")
            continue
        stats.latency[kind].append(arrived - started)
        await asyncio.sleep(random.uniform(0.5 * think, 1.5 * think))
        while not queue.empty():  # the rest of this step's messages
            _, last = queue.get_nowait()


COMMANDS = ("status {n}", "list", "note {n} load test note", "status {n}")


async def engineer(i: int, client: Client, inbox: Inbox, stats: Stats, until: float,
                   think: float, commands: tuple[str, ...] = COMMANDS) -> None:
    user = engineer_id(i)
    n = itertools.count()
    await asyncio.sleep(random.uniform(0, think))
    while time.perf_counter() < until:
        ticket = random.randint(1, 3)
        text = random.choice(commands).format(n=ticket)
        key = f"e{i}.{next(n)}"
        fut = inbox.expect(key)
        started = time.perf_counter()
        status = await client.command(user, text, key)
        if status != 200:
            stats.error("http", f"command HTTP {status}")
        else:
            try:
                stats.latency["command"].append(await asyncio.wait_for(fut, 10) - started)
            except TimeoutError:
                stats.error("no-reply", f"{user}: {text}")
        await asyncio.sleep(random.uniform(0.5 * think, 1.5 * think))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


async def wait_healthy(port: int) -> None:
    import httpx

    async with httpx.AsyncClient() as http:
        for _ in range(400):
            try:
                if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"server on {port} did not start")


async def main_async(args: argparse.Namespace) -> int:
    from storage.db import make_engine
    from tests.pg import PostgresServer, _free_port, fresh_pg_database

    server = None
    url = args.database_url
    if url is None:
        server = PostgresServer()
        url = fresh_pg_database(server.start())
    procs: list[subprocess.Popen[bytes]] = []
    inbox, stats = Inbox(), Stats()
    fake = await start_fake(inbox)
    try:
        prepare_database(url, args.customers, args.engineers)
        api_url = f"http://127.0.0.1:{fake.port}/api/"
        ports = [_free_port() for _ in range(args.replicas)]
        procs = [spawn(p, api_url, url) for p in ports]
        for p in ports:
            await wait_healthy(p)
        commands = tuple(c for c in COMMANDS if c.split()[0] in args.commands.split(","))
        client = Client(ports, fake.port)
        engine = make_engine(url, pool_size=20, max_overflow=20)
        # The generator is the measuring instrument: a full garbage collection over its
        # start-up heap would stall every client and the fake Slack server alike.
        import gc

        gc.collect()
        gc.freeze()
        t0 = time.perf_counter()
        until = t0 + args.duration
        await asyncio.gather(
            *(customer(i, client, inbox, stats, engine, until, args.think)
              for i in range(args.customers)),
            *(engineer(i, client, inbox, stats, until, args.think, commands)
              for i in range(args.engineers)))
        elapsed = time.perf_counter() - t0
        await client.http.aclose()
        engine.dispose()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        await fake.stop()
        if server is not None:
            server.stop()
    every = [x for v in stats.latency.values() for x in v]
    print(f"{args.customers} customers + {args.engineers} engineers, {args.duration:g} s, "
          f"{args.replicas} replica(s), PostgreSQL, think time ~{args.think:g} s, "
          f"engineers' verbs: {args.commands}")
    print(f"requests answered: {len(every)} ({len(every) / elapsed:.1f}/s); "
          f"tickets opened through the dialog: {stats.tickets}")
    for kind, values in sorted(stats.latency.items()):
        print(f"  {kind:8s} n={len(values):6d}  p50 {pct(values, 0.5):6.1f} ms  "
              f"p95 {pct(values, 0.95):6.1f} ms  p99 {pct(values, 0.99):6.1f} ms  "
              f"max {max(values) * 1000:6.1f} ms")
    print(f"  all      p99 {pct(every, 0.99):.1f} ms")
    errors = sum(stats.errors.values())
    print(f"errors: {errors} {dict(stats.errors)}")
    for kind, sample in stats.samples.items():
        print(f"  e.g. {kind}: {sample}")
    ok = errors == 0 and pct(every, 0.99) < 100
    print("goal (zero errors, p99 < 100 ms):", "met" if ok else "NOT met")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--engineers", type=int, default=50)
    parser.add_argument("--think", type=float, default=2.0,
                        help="mean seconds a person waits before the next message")
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--commands", default="status,list,note",
                        help="the engineers' verbs, comma-separated (status is drawn twice as "
                             "often as each other verb)")
    parser.add_argument("--database-url")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.api_url, args.database_url)
        return 0
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
