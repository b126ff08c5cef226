"""No token, key or password in any log line of `destek run` (bot.logs)."""

from __future__ import annotations

import io
import logging

from bot.config import Settings
from bot.logs import configure_logging

TG = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SLACK = "xoxb-1111-2222-abcdefghijklmnop"
SIGNING = "8f742231b10e8888abcd99yyyzzz85a5"
OPENAI = "sk-proj-abcdefghijklmnopqrstuvwx"


def test_secrets_never_reach_a_log_line() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level, logging.getLogger("httpx").level
    buf = io.StringIO()
    try:
        cfg = Settings(_env_file=None, TELEGRAM_BOT_TOKEN=TG, SLACK_BOT_TOKEN=SLACK,  # type: ignore[call-arg]
                       SLACK_SIGNING_SECRET=SIGNING, OPENAI_API_KEY=OPENAI,
                       DATABASE_URL="postgresql://destek:s3cret-pw@db/destek",
                       DESTEK_LOG_LEVEL="info")
        configure_logging(cfg, stream=buf)
        httpx = logging.getLogger("httpx")
        httpx.info('HTTP Request: POST https://api.telegram.org/bot%s/getUpdates "200 OK"', TG)
        httpx.warning("HTTP Request: POST https://api.telegram.org/bot%s/sendMessage 429", TG)
        log = logging.getLogger("bot.test")
        log.info("slack %s signing %s key %s db %s", SLACK, SIGNING, OPENAI, "s3cret-pw")
        try:
            raise RuntimeError(f"connect failed for https://api.telegram.org/bot{TG}/getMe")
        except RuntimeError:
            log.exception("polling failed")
        log.info("a plain line stays as it is: ticket #12 opened")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.getLogger("httpx").setLevel(saved[2])
    out = buf.getvalue()
    for secret in (TG, SLACK, SIGNING, OPENAI, "s3cret-pw", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"):
        assert secret not in out, secret
    assert "getUpdates" not in out  # httpx's per-request INFO lines are off
    assert "sendMessage 429" in out and "polling failed" in out and "RuntimeError" in out
    assert "a plain line stays as it is: ticket #12 opened" in out
