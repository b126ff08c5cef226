"""The message catalogue as a whole: every key in both languages with the same placeholders,
no English left inside a Turkish text (commands people type excepted), one name per clock, and
the one local-time format every person-facing time goes through."""

from __future__ import annotations

import importlib
import pkgutil
import re
import string
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import bot
import handlers
from handlers import customer_verbs, i18n, oncall, sla_notices, ticket_updates
from handlers.commands.parsing import USAGE, USAGE_TR
from handlers.vocabulary import clock_name, local_when, target_text
from sla import ClockKind, parse_target


def _import_everything() -> None:
    """Every module of handlers/ and bot/: each registers its own messages at import."""
    for pkg in (handlers, bot):
        for mod in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            importlib.import_module(mod.name)


_import_everything()
CATALOGUE = {key: i18n._CATALOGUE[key] for key in i18n.keys()}

# English words that must not appear in a Turkish text, as whole words.
DENY = ("running", "met", "open", "opened", "pending", "resolved", "closed", "what-is-missing",
        "engineer", "engineers", "usage", "ticket", "tickets", "breached", "paused", "due",
        "waiting", "assignee", "severity", "response", "resolution", "tier", "reason", "text",
        "customer", "left", "none", "next-release")
# Words people type as commands, allowed where they are typed: the staff verbs and the
# customer verbs, when an argument follows (``pending N``, ``reopen {n}``, ``kb add``).
VERBS = sorted(set(USAGE) | set(customer_verbs.VERBS) | {"plan"}, key=len, reverse=True)
TYPED = [
    re.compile(r"`[^`]*`"),  # `kb publish KE-1`
    re.compile(r"(?<![\w/])/[a-z]\w*"),  # /status, /new
    re.compile(r"\bdestek (?:ticket|kb|sla|oncall|report|usage) [a-z]+\b"),  # the CLI
    re.compile(r"\b(?:" + "|".join(VERBS) + r")\b(?= (?:N\b|\{\w+\}|\[|@|KB-ID|\d|add|edit|"
                                            r"publish|swap|mine|breaching|customer))"),
    re.compile(r"\b(?:mine|breaching|customer) (?:KOD|CODE)\b"),  # list's typed keywords
    re.compile(r"\b(?:mine|breaching)\b"),
    re.compile(r"\btier[23]\b|--fix-version\b|\buntil ISO"),
]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _untyped(text: str) -> str:
    """The text without what people type as commands, and without its {placeholders}."""
    for pattern in TYPED:
        text = pattern.sub(" ", text)
    return re.sub(r"\{[^{}]*\}", " ", text)


def test_the_catalogue_is_complete() -> None:
    assert len(CATALOGUE) > 300
    for key, texts in CATALOGUE.items():
        assert set(texts) == set(i18n.LANGUAGES), key
        assert all(texts[lang].strip() for lang in i18n.LANGUAGES), key


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_both_languages_use_the_same_placeholders(key: str) -> None:
    en, tr = CATALOGUE[key]["en"], CATALOGUE[key]["tr"]
    assert _placeholders(en) == _placeholders(tr), (key, en, tr)


def test_no_english_inside_turkish() -> None:
    pattern = re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, DENY)) + r")(?![\w-])",
                         re.IGNORECASE)
    found = {key: hits for key, texts in CATALOGUE.items()
             if (hits := pattern.findall(_untyped(texts["tr"])))}
    assert found == {}, "\n".join(f"{k}: {v} in {CATALOGUE[k]['tr']!r}" for k, v in found.items())


def test_the_deny_list_check_lets_typed_commands_through() -> None:
    assert "pending" not in _untyped("pending N eksik-bilgi · resume N")
    assert "ticket" not in _untyped("raporun tamamı: destek ticket show {n}")
    assert "open" in _untyped("kayıt open durumunda")
    assert "running" in _untyped("Yanıt: 2026-12-01 10:00 (running)")


def test_every_verb_has_a_usage_line_in_both_languages() -> None:
    assert set(USAGE) == set(USAGE_TR)
    for verb in USAGE:
        en, tr = CATALOGUE[f"cmd.usage.{verb}"]["en"], CATALOGUE[f"cmd.usage.{verb}"]["tr"]
        assert en == f"Usage: {USAGE[verb]}" and tr == f"Kullanım: {USAGE_TR[verb]}"
        # The verb and its typed keywords stay; only placeholder words are translated.
        assert USAGE_TR[verb].split()[0] == USAGE[verb].split()[0] == verb
    assert i18n.t("cmd.usage.pending", "tr") == "Kullanım: pending N eksik-bilgi"


def test_one_name_per_clock_in_each_language() -> None:
    names = {(kind, lang): (clock_name(kind, lang), clock_name(kind, lang, mid=True))
             for kind in ClockKind for lang in i18n.LANGUAGES}
    assert names[ClockKind.RESPONSE, "tr"] == ("Yanıt", "yanıt")
    assert names[ClockKind.WORKAROUND, "tr"] == ("Anlık çözüm", "anlık çözüm")
    assert names[ClockKind.RESOLUTION, "tr"] == ("Kalıcı çözüm", "kalıcı çözüm")
    assert names[ClockKind.RESOLUTION, "en"] == ("Resolution", "resolution")
    for (_, _), (start, mid) in names.items():
        assert start[0].isupper() and start[1:] == mid[1:] and mid[0].islower()
    # No other Turkish name for a clock anywhere in the catalogue.
    for key, texts in CATALOGUE.items():
        assert not re.search(r"(?i)geçici çözüm", texts["tr"]), key
        assert not re.search(r"(?<!kalıcı )(?<!anlık )\bçözüm süre", texts["tr"].lower()), key


def test_targets_read_in_the_language() -> None:
    assert target_text(parse_target("4h"), "tr") == "4 sa"
    assert target_text(parse_target("2d"), "tr") == "2 iş günü"
    assert target_text(parse_target("30m 24x7"), "tr") == "30 dk 7/24"
    assert target_text(parse_target("next-release"), "tr") == "bir sonraki sürüm"
    assert target_text(parse_target("4h"), "en") == "4h"


def test_one_local_time_format_with_the_zone() -> None:
    at = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    expected = "2026-11-25 12:30 (Europe/Istanbul)"
    assert local_when(at, "Europe/Istanbul") == expected
    assert local_when(at, ZoneInfo("Europe/Istanbul")) == expected
    assert local_when(at, UTC) == "2026-11-25 09:30 (UTC)"
    assert local_when(None, "Europe/Istanbul") == "—"
    # Customers' updates, on-call texts and SLA notices all write it so.
    assert ticket_updates.local_time(at, "Europe/Istanbul") == expected
    assert oncall.local_time(at, "Europe/Istanbul") == expected
    assert sla_notices.local(at, ZoneInfo("Europe/Istanbul")) == expected
    assert "+03" not in expected


def test_no_handler_formats_a_time_of_its_own() -> None:
    """Person-facing times go through local_when: no bare offset (``tzname()``), no "UTC"
    alone, no unlabelled wall time outside the vocabulary (the ticket report names its zone
    once in its header)."""
    root = Path(handlers.__file__).parent
    allowed = {"vocabulary.py", "ticket_report_text.py"}
    for path in root.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "tzname()" not in source, path
        assert not re.search(r"%H:%M\}? ?UTC", source), path
        if path.name not in allowed:
            assert "%Y-%m-%d %H:%M" not in source, path
