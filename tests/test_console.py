"""The console channel through the real command line (a subprocess, stdin as the user)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from storage.db import make_engine
from storage.models import Attachment, DialogSession, Ticket
from tests.pg import database_url

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 256


def destek(tmp: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``destek ARGS`` as the console script does, in ``tmp`` with its own database."""
    env = {**os.environ, "DATABASE_URL": database_url(tmp / 'destek.db'),
           "DESTEK_DATA_DIR": str(tmp / "data"), "PYTHONPATH": str(ROOT),
           "TELEGRAM_BOT_TOKEN": "", "SLACK_BOT_TOKEN": ""}
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        input=stdin, capture_output=True, text=True, env=env, cwd=tmp, timeout=120,
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("console")
    # make demo runs non-interactively: the chat ends cleanly at end of input.
    res = destek(tmp, "demo", stdin="")
    assert res.returncode == 0, res.stderr
    assert "#1 ACME S1 premium" in res.stdout  # the SLA table comes first
    assert "Merhaba Ayşe Demir" in res.stdout and "Hoşça kalın" in res.stdout
    return tmp


def test_full_dialog_in_the_terminal_with_a_local_file(seeded: Path) -> None:
    shot = seeded / "screen.png"
    shot.write_bytes(PNG)
    lines = ["Chatbot gives wrong answers in Turkish"]
    res = destek(seeded, "chat", "--as", "Ayşe Demir", stdin="\n".join(lines) + "\n")
    assert res.returncode == 0, res.stderr
    with Session(make_engine(database_url(seeded / 'destek.db'))) as s:
        step = s.exec(select(DialogSession)).one().step
    assert step in ("selfhelp", "kind")
    script = ["2"] if step == "selfhelp" else []  # not solved
    script += [
        "3", "Chatbot",  # a question, about the Chatbot
        "2.8", "1",
        "The chatbot answers Turkish questions with English fallback text.",
        "Ask the web chat any question in Turkish.",
        "yok", str(shot), "tamam",
        "hayır", "1", "2", "S4",  # no outage, a workaround, a few users: S4 proposed, kept
        "evet", "SSH via jump host", "onayla",
    ]
    res = destek(seeded, "chat", "--as", "1001", stdin="\n".join(script) + "\n")
    assert res.returncode == 0, res.stderr
    assert "Devam eden bir bildiriminiz var" in res.stdout  # the saved dialog continued
    assert "screen.png alındı" in res.stdout, res.stdout
    assert "numaralı kayıt açıldı" in res.stdout, res.stdout[-2500:]
    assert "Europe/Istanbul" in res.stdout
    with Session(make_engine(database_url(seeded / 'destek.db'))) as s:
        ticket = s.exec(select(Ticket).order_by(Ticket.id.desc())).first()  # type: ignore[union-attr]
        assert ticket is not None and ticket.channel == "console"
        assert ticket.kind == "question" and ticket.summary.startswith("Chatbot gives")
        att = s.exec(select(Attachment).where(Attachment.ticket_id == ticket.id)).one()
        assert att.filename == "screen.png" and att.content_type == "image/png"


def test_refused_and_unknown_contacts(seeded: Path) -> None:
    res = destek(seeded, "chat", "--as", "Mehmet Kaya", stdin="hello\n")
    assert res.returncode == 0 and "eğitim almış" in res.stdout
    res = destek(seeded, "chat", "--as", "Tom Old")
    assert res.returncode == 0 and "no active maintenance" in res.stdout
    res = destek(seeded, "chat", "--as", "Nobody Here")
    assert res.returncode == 2 and "unknown contact 'Nobody Here'" in res.stderr


def test_commands_and_quit(seeded: Path) -> None:
    res = destek(seeded, "chat", "--as", "Jane Miller",
                 stdin="/lang en\n/list\n/status 1\n/cancel\n/quit\nnever read\n")
    assert res.returncode == 0, res.stderr
    assert "Open tickets of Northwind" in res.stdout or "no open tickets" in res.stdout
    assert "cannot find ticket 1" in res.stdout  # #1 belongs to ACME
    assert "Cancelled" in res.stdout
    assert "Bye" in res.stdout


def test_run_without_channels_says_so(seeded: Path) -> None:
    res = destek(seeded, "run")
    assert res.returncode == 0
    assert "No chat channel is configured" in res.stdout and "destek chat --as" in res.stdout
