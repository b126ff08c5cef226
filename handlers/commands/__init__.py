"""The engineers' ticket commands, the same verbs on every channel (Slack, Telegram, console).

``execute_command(session, policy, actor, "ack 12", now, routing)`` parses one command line,
checks who may run it, changes the ticket, writes the audit event first, queues the message to
the customer (P21) in the outbox and answers the actor. Nothing here knows about Slack or
Telegram; adapters only pass text in and render the returned replies.

- :mod:`.execute`: the verb table (``HANDLERS``) and :func:`execute_command`
- :mod:`.parsing`: the command context, :class:`CommandError`, usage lines, argument helpers
- :mod:`.staff`: who is staff, :func:`find_engineer`
- :mod:`.lifecycle`: the verbs that change a ticket (their clock rules are documented there)
- :mod:`.reading`: ``status``, ``list``, ``help``
- :mod:`.delegated`: ``suggest``, ``link``, ``kb``, ``report``, ``planned``
- :mod:`.oncall`: the ``oncall`` verb
- :mod:`.messages`: the catalogue

What a change does beyond the verb (audit order, the customer's replies, the scheduler) is in
``handlers.ticket_actions``; the outbox messages and their keys in ``handlers.notify``.
"""

from . import messages  # noqa: F401  (registers the catalogue before any verb answers)
from .execute import HANDLERS, READ_ONLY_VERBS, VERBS, execute_command
from .parsing import CommandError
from .reading import status_text
from .staff import STAFF_ROLES, find_engineer

__all__ = [
    "HANDLERS",
    "READ_ONLY_VERBS",
    "STAFF_ROLES",
    "VERBS",
    "CommandError",
    "execute_command",
    "find_engineer",
    "status_text",
]
