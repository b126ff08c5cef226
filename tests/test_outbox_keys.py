"""Outbox keys: every builder gives exactly the string production outboxes already hold (a
changed format would queue every pending notice again), and no module builds one inline."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from handlers.notify import keys
from sla.attainment import Month

ROOT = Path(__file__).resolve().parents[1]

# (builder, arguments, the string it must give)
EXPECTED = [
    ("ticket_event_for_customer", (12, 345), "ticket:12:event:345:customer"),
    ("ticket_event_for_engineers", (12, 345, 1), "ticket:12:event:345:engineers:1"),
    ("ticket_opened", (12, "slack", "C0ENG"), "ticket:12:opened:slack:C0ENG"),
    ("reply_file", (12, 40, 0), "ticket:12:event:40:file:0"),
    ("ticket_confirmation", (12,), "ticket:12:confirmation"),
    ("auto_close_reminder", (12, "2026-12-01T14:00:00Z"),
     "ticket:12:auto-close:2026-12-01T14:00:00Z:reminder"),
    ("satisfaction_survey", (12,), "ticket:12:survey"),
    ("ai_suggestion", (12, 345, "telegram", "-100200"), "ai-suggestion:12:345:telegram:-100200"),
    ("threshold_notice", ("t12:response:90%:1795000000", "slack", "U1"),
     "t12:response:90%:1795000000:slack:U1"),
    ("threshold_escalation", ("t12:resolution:breach:1795000000", "slack", "U2"),
     "t12:resolution:breach:1795000000:esc:slack:U2"),
    ("page_step", (7, 0, "slack", "U1"), "page:7:0:slack:U1"),
    ("page_exhausted", (7, "console", "alerts"), "page:7:exhausted:console:alerts"),
    ("page_to_customer", (7,), "page:7:customer"),
    ("sla_digest", ("2026-11-25", "slack", "C0ENG"), "digest:2026-11-25:slack:C0ENG"),
    ("release_notice", (3, 4, 5), "release:3:customer:4:5"),
    ("end_of_support_notice", (6, 4, 5), "eos:6:customer:4:5"),
    ("planned_work", (9, "telegram", "-100200"), "planned:9:engineers:telegram:-100200"),
    ("monthly_report", (Month(2026, 3), "ACME", "slack", "C0ENG"),
     "report:2026-03:ACME:slack:C0ENG"),
    ("monthly_report", (Month(2026, 11), None, "slack", "C0ENG"),
     "report:2026-11:all:slack:C0ENG"),
]


@pytest.mark.parametrize(("builder", "args", "expected"), EXPECTED,
                         ids=[e for _, _, e in EXPECTED])
def test_key_format_is_unchanged(builder: str, args: tuple[Any, ...], expected: str) -> None:
    assert getattr(keys, builder)(*args) == expected


def test_every_builder_is_pinned() -> None:
    assert set(keys.__all__) == {builder for builder, _, _ in EXPECTED}


def _inline_keys(path: Path) -> list[int]:
    """Lines where an outbox key is an f-string: the key argument of ``enqueue`` /
    ``tell_customer``, or the ``"key"`` of a row for ``enqueue_many``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            position = {"enqueue": 1, "tell_customer": 2}.get(name or "")
            if position is not None and len(node.args) > position \
                    and isinstance(node.args[position], ast.JoinedStr):
                found.append(node.lineno)
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if isinstance(k, ast.Constant) and k.value == "key" \
                        and isinstance(v, ast.JoinedStr):
                    found.append(node.lineno)
    return found


def test_no_module_builds_an_outbox_key_inline() -> None:
    inline = {str(p.relative_to(ROOT)): lines
              for folder in ("bot", "handlers", "storage")
              for p in sorted((ROOT / folder).rglob("*.py"))
              if (lines := _inline_keys(p))}
    assert inline == {}, "build outbox keys with handlers.notify.keys"
