"""Replies as terminal text."""

from __future__ import annotations

from handlers.types import Reply


def render(reply: Reply) -> str:
    """A reply as terminal text: the message, then its choices numbered."""
    lines = [reply.text]
    for i, choice in enumerate(reply.choices, 1):
        lines.append(f"  {i}) {choice.label}")
    return "\n".join(lines)
