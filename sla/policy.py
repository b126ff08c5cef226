"""The support policy: severities, plans, service-level targets, reminders.

Loaded from YAML (a default ships in ``sla/default_policy.yaml``) and validated; a bad file is
rejected with one line naming the key and the problem.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .assignment import Assignment

__all__ = [
    "AutoClose",
    "Assignment",
    "ClockKind",
    "Paging",
    "Policy",
    "PolicyError",
    "Target",
    "DEFAULT_POLICY_PATH",
    "load_policy",
    "parse_policy",
    "parse_target",
]

DEFAULT_POLICY_PATH = Path(__file__).with_name("default_policy.yaml")
SEVERITIES = ("S1", "S2", "S3", "S4")
FAMILIES = ("conversational-ai", "conversational-analytics", "call-recording")


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the key and the problem."""


class ClockKind(StrEnum):
    RESPONSE = "response"
    WORKAROUND = "workaround"
    RESOLUTION = "resolution"


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d)\s*$")
_UNIT_MINUTES = {"m": 1, "min": 1, "h": 60}
_UNITS: dict[str, Literal["m", "h", "d"]] = {"m": "m", "min": "m", "h": "h", "d": "d"}


class Target(BaseModel):
    """One service-level cell: a business-time amount, or ``none`` / ``next-release``.

    ``amount``/``unit`` keep the written form: ``d`` is resolved against the calendar's
    full business day only when a deadline is computed.
    """

    model_config = ConfigDict(frozen=True)

    kind: Literal["duration", "none", "next-release"]
    amount: float = 0
    unit: Literal["m", "h", "d"] = "m"
    around_the_clock: bool = False

    @property
    def has_clock(self) -> bool:
        return self.kind == "duration"

    def seconds(self, business_day_seconds: int) -> int:
        """The target in business seconds of a calendar whose full day is given."""
        if self.unit == "d":
            return round(self.amount * business_day_seconds)
        return round(self.amount * _UNIT_MINUTES[self.unit] * 60)

    def label(self) -> str:
        if self.kind != "duration":
            return self.kind
        amount = int(self.amount) if self.amount == int(self.amount) else self.amount
        return f"{amount}{self.unit}" + (" 24x7" if self.around_the_clock else "")


def wall_duration(value: Any, example: str) -> Target:
    """A plain span of clock time (minutes or hours: a page interval, the late grace)."""
    target = value if isinstance(value, Target) else parse_target(value)
    if not target.has_clock or target.unit == "d" or target.around_the_clock:
        raise ValueError(f"use minutes or hours, e.g. {example}")
    return target


def parse_target(value: Any) -> Target:
    """Parse ``"4h"``, ``"30m 24x7"``, ``{target: 30m, clock: 24x7}``, ``none``,
    ``next-release``."""
    clock = "business"
    if isinstance(value, dict):
        unknown = set(value) - {"target", "clock"}
        if unknown:
            raise ValueError(f"unknown key {sorted(unknown)[0]!r} (use target and clock)")
        clock = str(value.get("clock", "business"))
        value = value.get("target")
    if value is None or value is False:
        return Target(kind="none")
    text = str(value).strip()
    if text.endswith("24x7"):
        text, clock = text[: -len("24x7")].rstrip(" ,"), "24x7"
    if clock not in ("business", "24x7"):
        raise ValueError(f"clock {clock!r} must be business or 24x7")
    if text.lower() in ("none", "-", "—", "n/a"):
        return Target(kind="none")
    if text.lower() == "next-release":
        return Target(kind="next-release")
    m = _DURATION.match(text)
    if not m:
        raise ValueError(
            f"{text!r} is not a target (use e.g. 30m, 4h, 2d, none or next-release)"
        )
    amount = float(m.group(1))
    if amount <= 0:
        raise ValueError(f"{text!r} must be more than zero")
    unit = _UNITS[m.group(2)]
    return Target(kind="duration", amount=amount, unit=unit, around_the_clock=clock == "24x7")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Texts(_Strict):
    en: str
    tr: str


class Severity(_Strict):
    name: Texts
    definition: Texts


class Cell(_Strict):
    response: Target
    workaround: Target
    resolution: Target

    @field_validator("response", "workaround", "resolution", mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Target:
        return v if isinstance(v, Target) else parse_target(v)

    def get(self, kind: ClockKind) -> Target:
        target: Target = getattr(self, kind.value)
        return target


class PartialCell(_Strict):
    response: Target | None = None
    workaround: Target | None = None
    resolution: Target | None = None

    @field_validator("response", "workaround", "resolution", mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Target | None:
        return v if v is None or isinstance(v, Target) else parse_target(v)


class Plan(_Strict):
    name: Texts
    targets: dict[str, Cell]

    @model_validator(mode="after")
    def _all_severities(self) -> Plan:
        missing = [s for s in SEVERITIES if s not in self.targets]
        if missing:
            raise ValueError(f"targets for {', '.join(missing)} are missing")
        return self


class Family(_Strict):
    name: Texts
    # plan -> severity -> cells that replace the plan's
    overrides: dict[str, dict[str, PartialCell]] = Field(default_factory=dict)


class Escalation(_Strict):
    """Escalation rule: at ``at`` (fraction of a target, 1.0 = breach) of ``clock`` for the
    listed severities, notify managers and/or raise the tier."""

    clock: ClockKind
    severities: list[str] = Field(default_factory=lambda: list(SEVERITIES))
    at: float = Field(gt=0, le=1)
    notify_managers: bool = False
    raise_tier: bool = False


PAGE_TARGETS = ("primary", "secondary", "managers")


class PagingQuiet(_Strict):
    """When a ticket that could page does not: the engineers' channel is enough then."""

    business_hours: bool = True  # inside the customer's business hours
    while_paused: bool = True  # while the ticket waits for the customer or remote access


class Paging(_Strict):
    """On-call paging for cells that run around the clock (P10, P25).

    ``cells`` is ``24x7`` (every plan × severity whose clock is marked 24x7) or a list of
    ``plan/severity`` (e.g. ``premium/S1``) whose clocks page whatever their calendar.
    A page goes to ``chain[0]`` at once and to the next entry each ``interval`` nobody takes it.
    """

    enabled: bool = True
    cells: Literal["24x7"] | list[str] = "24x7"
    on_open: bool = True
    thresholds: list[float] = Field(default_factory=lambda: [0.9, 1.0])
    interval: Target = Field(default_factory=lambda: parse_target("5m"))
    chain: list[str] = Field(default_factory=lambda: ["primary", "primary", "secondary",
                                                      "managers"])
    quiet: PagingQuiet = Field(default_factory=PagingQuiet)

    @field_validator("interval", mode="before")
    @classmethod
    def _interval(cls, v: Any) -> Target:
        return wall_duration(v, "5m")

    @field_validator("thresholds")
    @classmethod
    def _fractions(cls, v: list[float]) -> list[float]:
        for x in v:
            if not 0 < x <= 1:
                raise ValueError(f"threshold {x} must be above 0 and at most 1 (the breach)")
        return sorted(set(v))

    @field_validator("chain")
    @classmethod
    def _chain(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("name at least one step: primary, secondary or managers")
        for step in v:
            if step not in PAGE_TARGETS:
                raise ValueError(f"{step!r} must be primary, secondary or managers")
        return v

    @property
    def interval_seconds(self) -> int:
        return self.interval.seconds(0)


class AutoClose(_Strict):
    """A resolved ticket closes by itself after ``business_days`` of the customer's calendar
    unless the customer writes on it; they are reminded ``remind_days_before`` business days
    before (0: no reminder). ``enabled: false`` leaves resolved tickets to ``close N``."""

    enabled: bool = True
    business_days: int = Field(default=5, ge=1, le=60)
    remind_days_before: int = Field(default=1, ge=0)

    @model_validator(mode="after")
    def _before_close(self) -> AutoClose:
        if self.remind_days_before >= self.business_days:
            raise ValueError("remind_days_before must be less than business_days")
        return self


class Policy(_Strict):
    """The whole support policy."""

    version: int = 1
    severities: dict[str, Severity]
    plans: dict[str, Plan]
    families: dict[str, Family]
    reminders: list[float] = Field(default_factory=lambda: [0.5, 0.75, 0.9])
    # A reminder or alert sent later than this after its instant (the scheduler was down, or
    # a restart caught up) says so: "marked late".
    late_after: Target = Field(default_factory=lambda: parse_target("2m"))
    end_of_support_years: int = Field(default=5, ge=1, le=50)
    escalations: list[Escalation] = Field(default_factory=list)
    additional_services: list[str] = Field(default_factory=list)
    planned_work_notice_days: int = Field(default=7, ge=0)
    ai_suggestions_to_customers: bool = False
    paging: Paging = Field(default_factory=Paging)
    auto_close: AutoClose = Field(default_factory=AutoClose)
    assignment: Assignment = Field(default_factory=Assignment)  # issue #19: off by default

    @field_validator("late_after", mode="before")
    @classmethod
    def _late_after(cls, v: Any) -> Target:
        return wall_duration(v, "2m")

    @property
    def late_after_seconds(self) -> int:
        return self.late_after.seconds(0)

    @field_validator("reminders")
    @classmethod
    def _thresholds(cls, v: list[float]) -> list[float]:
        for x in v:
            if not 0 < x < 1:
                raise ValueError(f"threshold {x} must be between 0 and 1 (e.g. 0.5 for 50 %)")
        return sorted(set(v))

    @field_validator("severities")
    @classmethod
    def _severities(cls, v: dict[str, Severity]) -> dict[str, Severity]:
        missing = [s for s in SEVERITIES if s not in v]
        if missing:
            raise ValueError(f"severities {', '.join(missing)} are missing")
        return v

    @model_validator(mode="after")
    def _references(self) -> Policy:
        for fam_key, fam in self.families.items():
            for plan, cells in fam.overrides.items():
                if plan not in self.plans:
                    raise ValueError(
                        f"families.{fam_key}.overrides: unknown plan {plan!r}"
                    )
                for sev in cells:
                    if sev not in self.severities:
                        raise ValueError(
                            f"families.{fam_key}.overrides.{plan}: unknown severity {sev!r}"
                        )
        for plan_key, plan_obj in self.plans.items():
            for sev in plan_obj.targets:
                if sev not in self.severities:
                    raise ValueError(f"plans.{plan_key}.targets: unknown severity {sev!r}")
        for i, esc in enumerate(self.escalations):
            for sev in esc.severities:
                if sev not in self.severities:
                    raise ValueError(f"escalations.{i}.severities: unknown severity {sev!r}")
        if isinstance(self.paging.cells, list):
            for i, cell in enumerate(self.paging.cells):
                plan, _, sev = cell.partition("/")
                if plan not in self.plans or sev not in self.severities:
                    raise ValueError(
                        f"paging.cells.{i}: {cell!r} must be plan/severity, e.g. premium/S1")
        return self

    def pages(self, plan: str, severity: str, family: str | None, kind: ClockKind) -> bool:
        """Whether ``kind`` of this cell pages the on-call engineer out of hours."""
        paging = self.paging
        if not paging.enabled:
            return False
        target = self.target(plan, severity, family, kind)
        if not target.has_clock:
            return False
        if paging.cells == "24x7":
            return target.around_the_clock
        return f"{plan}/{severity}" in paging.cells

    def target(self, plan: str, severity: str, family: str | None, kind: ClockKind) -> Target:
        """The cell for a plan × severity × clock, with the family's override if any."""
        plan_obj = self.plans.get(plan)
        if plan_obj is None:
            raise PolicyError(f"unknown plan {plan!r}: choose one of {', '.join(self.plans)}")
        cell = plan_obj.targets.get(severity)
        if cell is None:
            raise PolicyError(f"unknown severity {severity!r}")
        if family is not None:
            fam = self.families.get(family)
            if fam is None:
                raise PolicyError(
                    f"unknown product family {family!r}: choose one of {', '.join(self.families)}"
                )
            override = fam.overrides.get(plan, {}).get(severity)
            if override is not None:
                replaced = getattr(override, kind.value)
                if replaced is not None:
                    return replaced  # type: ignore[no-any-return]
        return cell.get(kind)

    def severity_name(self, severity: str, lang: str) -> str:
        names = self.severities[severity].name
        return names.tr if lang == "tr" else names.en


def _format_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required key is missing"
    return f"{loc}: {msg}" if loc else msg


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """Validate policy YAML text (pure); errors name ``source``, the key and the problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise PolicyError(f"policy file {source}:{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise PolicyError(f"policy file {source}: expected a mapping at the top level")
    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(f"policy file {source}: {_format_error(exc)}") from None


def load_policy(path: str | Path | None = None) -> Policy:
    """Read and validate a policy file (the shipped default when ``path`` is None).

    The one file read of this package, kept here so every caller gets the same messages.
    """
    p = Path(path) if path else DEFAULT_POLICY_PATH
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(f"policy file {p}: not found") from None
    except UnicodeDecodeError as exc:
        raise PolicyError(
            f"policy file {p}: not UTF-8 text (byte {exc.start}: {exc.reason})"
        ) from None
    except OSError as exc:
        raise PolicyError(f"policy file {p}: cannot read ({exc.strerror or exc})") from None
    return parse_policy(text, str(p))
