"""``destek contact away NAME`` / ``destek contact back NAME``: an engineer away (leave, sick)
is not assigned tickets automatically (issue #19; the chat verbs are ``away`` / ``back``)."""

from __future__ import annotations

import typer

from handlers.assignment import set_away
from handlers.commands.staff import find_engineer

from .common import contact_app, fail, session


def _mark(name: str, away: bool) -> None:
    with session() as s:
        who = find_engineer(s, name)
        if who is None:
            fail(f"{name!r} is not an active engineer or manager")
        changed = set_away(s, who, away)
        label = who.name
    state = "away" if away else "back"
    typer.echo(f"{label} is {state}" if changed else f"{label} was already {state}")


@contact_app.command("away")
def contact_away(name: str) -> None:
    """Mark an engineer away: no ticket is assigned to them automatically until ``back``."""
    _mark(name, True)


@contact_app.command("back")
def contact_back(name: str) -> None:
    """Mark an engineer back from being away."""
    _mark(name, False)
