"""The demo's minute-scale plan: a demo-only plan, so that ``make demo`` shows a countdown
reminder and a breach alert within its first two minutes.

It is never in a policy file: :func:`with_demo_plan` adds it to the loaded policy in memory,
and only a database that holds a contract on it (the demo's, seeded by ``destek demo``) is
read with it (:func:`policy_for`), so the procedure's plans and any production database are
untouched.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from sla import Policy
from sla.policy import Plan
from storage.models import Contract

DEMO_PLAN = "demo-minutes"
DEMO_LABEL = "DEMO plan: minutes, not hours"
# Around the clock, so they run out on any day at any hour.
DEMO_CELL = {"response": "1m 24x7", "workaround": "2m 24x7", "resolution": "4m 24x7"}


def with_demo_plan(policy: Policy) -> Policy:
    """``policy`` with the demo-only plan added (its own plans unchanged)."""
    if DEMO_PLAN in policy.plans:
        return policy
    plan = Plan.model_validate({
        "name": {"en": DEMO_LABEL, "tr": "DEMO planı: saat değil, dakika"},
        "targets": {severity: DEMO_CELL for severity in policy.severities},
    })
    return policy.model_copy(update={"plans": {**policy.plans, DEMO_PLAN: plan}})


def uses_demo_plan(engine: Engine) -> bool:
    """Whether the database holds a contract on the demo plan (a demo database)."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with Session(engine) as s:
            return s.exec(select(Contract.id).where(Contract.plan == DEMO_PLAN)).first() \
                is not None
    except SQLAlchemyError:  # not migrated yet: no contract at all
        return False


def policy_for(engine: Engine, policy: Policy) -> Policy:
    """The policy to read this database with: the demo plan added on the demo's database."""
    return with_demo_plan(policy) if uses_demo_plan(engine) else policy
