"""Benchmark the SLA engine against pandas ``CustomBusinessHour`` on the same random cases.

    python benchmarks/bench_sla.py [--cases N] [--seed S] [--repeat R]

Cases (seeded): TR and US calendars, starts anywhere in 2025-2028 (a fifth of them on whole
hours, so openings and closings are hit), targets from 30 minutes to 20 business days, about
20 % with pauses (a tenth of those with an open pause). Timed on the same cases:

* ours, datetime API: ``add_business_time(calendar, start, timedelta, pauses)``, aware in and out;
* ours, epoch API: ``add_business_seconds(timeline, epoch, seconds, merged_pauses)``;
* pandas, core: ``naive_local_Timestamp + CustomBusinessHour(n)`` (its most favourable form);
* pandas, aware: ``tz-aware Timestamp + CustomBusinessHour(n)`` (aware in and out, like ours).

pandas has no pauses and no sub-hour amounts: for paused cases it is timed on the same case
without its pauses, and for 30-minute cases on n=1 hour; both are left out of the agreement
check. ``CustomBusinessHour`` objects are built once per (calendar, n) before timing (about
16 µs each). The agreement check compares our results with pandas on every other case,
allowing for the closing-time rule (a result exactly at a closing time is ours; pandas moves
it to the next opening) and skipping TR cases whose span touches a half day (pandas has no
half days). Exit status 1 on any disagreement.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import math
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import holidays as holidays_lib  # noqa: E402
import pandas as pd  # noqa: E402
from pandas.tseries.offsets import CustomBusinessHour  # noqa: E402

from sla import BusinessCalendar, add_business_time, make_calendar  # noqa: E402
from sla.clock import add_business_seconds, merge_pauses  # noqa: E402

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
YEARS = list(range(2024, 2031))
H = 3600


class Case:
    __slots__ = ("cal", "start", "seconds", "amount", "pauses", "epoch", "merged", "n_hours",
                 "pd_naive", "pd_aware", "offset")

    def __init__(self, cal: BusinessCalendar, start: datetime, seconds: int,
                 pauses: list[tuple[datetime, datetime | None]]) -> None:
        self.cal = cal
        self.start = start
        self.seconds = seconds
        self.amount = timedelta(seconds=seconds)
        self.pauses = pauses
        self.epoch = start.timestamp()
        self.merged = merge_pauses(pauses)
        self.n_hours = max(1, math.ceil(seconds / H))
        local = start.astimezone(cal.zone)
        self.pd_naive = pd.Timestamp(local.replace(tzinfo=None))
        self.pd_aware = pd.Timestamp(local)
        self.offset: CustomBusinessHour | None = None


def make_cases(n: int, seed: int, calendars: list[BusinessCalendar]) -> list[Case]:
    rng = random.Random(seed)
    lo = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    span = 4 * 365 * 86400
    fixed = [30 * 60, H, 2 * H, 4 * H, 9 * H, 18 * H, 27 * H, 45 * H, 90 * H, 180 * H]
    cases = []
    for _ in range(n):
        cal = rng.choice(calendars)
        t = int(lo + rng.randrange(span))
        if rng.random() < 0.2:
            t -= t % H
        r = rng.random()
        if r < 0.5:
            seconds = rng.choice(fixed)
        else:
            seconds = rng.randint(1, 180) * H  # 1 h .. 20 business days
        pauses: list[tuple[datetime, datetime | None]] = []
        if rng.random() < 0.2:
            for _ in range(rng.randint(1, 3)):
                a = t + rng.randrange(-86400, 10 * 86400)
                b = a + rng.randrange(600, 2 * 86400)
                pauses.append((datetime.fromtimestamp(a, cal.zone),
                               datetime.fromtimestamp(b, cal.zone)))
            if rng.random() < 0.1:
                a = t + rng.randrange(0, 20 * 86400)
                pauses.append((datetime.fromtimestamp(a, cal.zone), None))
        cases.append(Case(cal, datetime.fromtimestamp(t, cal.zone), seconds, pauses))
    return cases


def pandas_offsets(cases: list[Case]) -> None:
    cache: dict[tuple[str, int], CustomBusinessHour] = {}
    holidays_by_cal: dict[str, list[date]] = {}
    for c in cases:
        cal = c.cal
        if cal.name not in holidays_by_cal:
            days: set[date] = set(cal.closed_dates)
            for country in cal.holiday_sets:
                days.update(holidays_lib.country_holidays(
                    country, years=YEARS, categories=("public",), language="en_US"))
            holidays_by_cal[cal.name] = sorted(days)
        key = (cal.name, c.n_hours)
        off = cache.get(key)
        if off is None:
            close = cal.hours.close
            assert close is not None
            off = CustomBusinessHour(
                n=c.n_hours,
                weekmask=" ".join(DAY_NAMES[d] for d in sorted(cal.days)),
                holidays=holidays_by_cal[cal.name],
                start=cal.hours.open.strftime("%H:%M"),
                end=close.strftime("%H:%M"),
            )
            cache[key] = off
        c.offset = off


# -- the timed loops -----------------------------------------------------------------------------


def run_ours_datetime(cases: list[Case]) -> list[datetime | None]:
    out: list[datetime | None] = []
    append = out.append
    for c in cases:
        append(add_business_time(c.cal, c.start, c.amount, c.pauses))
    return out


def run_ours_epoch(cases: list[Case]) -> list[float | None]:
    out: list[float | None] = []
    append = out.append
    for c in cases:
        append(add_business_seconds(c.cal.timeline(), c.epoch, c.seconds, c.merged))
    return out


def run_pandas_core(cases: list[Case]) -> list[pd.Timestamp]:
    out: list[pd.Timestamp] = []
    append = out.append
    for c in cases:
        append(c.pd_naive + c.offset)
    return out


def run_pandas_aware(cases: list[Case]) -> list[pd.Timestamp]:
    out: list[pd.Timestamp] = []
    append = out.append
    for c in cases:
        append(c.pd_aware + c.offset)
    return out


def best_of(fn: Callable[[list[Case]], list], cases: list[Case], repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            fn(cases)
            best = min(best, time.perf_counter() - t0)
        finally:
            gc.enable()
    return best


# -- agreement -----------------------------------------------------------------------------------


def half_days(cal: BusinessCalendar) -> set[date]:
    out: set[date] = set()
    for country in cal.half_day_sets:
        out.update(holidays_lib.country_holidays(
            country, years=YEARS, categories=("half_day",), language="en_US"))
    return out


def check_agreement(cases: list[Case], ours: list[datetime | None], epoch: list[float | None],
                    core: list[pd.Timestamp], aware: list[pd.Timestamp]) -> tuple[int, ...]:
    halves = {c.cal.name: half_days(c.cal) for c in cases}
    compared = agree = closing = skipped_half = not_comparable = 0
    mismatches: list[tuple[Any, ...]] = []
    for c, mine, mine_e, theirs_naive, theirs_aware in zip(cases, ours, epoch, core, aware,
                                                           strict=True):
        # our two APIs must agree everywhere
        if (mine is None) != (mine_e is None) or (
            mine is not None and mine.timestamp() != mine_e
        ):
            mismatches.append(("datetime vs epoch API", c, mine, mine_e))
            continue
        if c.pauses or c.seconds % H:
            not_comparable += 1
            continue
        assert mine is not None
        cal = c.cal
        theirs = theirs_naive.to_pydatetime().replace(tzinfo=cal.zone)
        first = c.start.astimezone(cal.zone).date()
        last = max(mine.date(), theirs.date())
        if any(first <= d <= last for d in halves[cal.name]):
            skipped_half += 1
            continue
        compared += 1
        tl = cal.timeline()
        expected = mine
        if not tl.is_open(mine.timestamp()):
            closing += 1
            expected = datetime.fromtimestamp(tl.next_open(mine.timestamp()), cal.zone)
        ok = theirs == expected and theirs_aware.to_pydatetime() == expected
        if ok:
            agree += 1
        else:
            mismatches.append(("pandas", c, mine, theirs, theirs_aware))
    for m in mismatches[:5]:
        print("  MISMATCH", m[0], m[1].cal.name, m[1].start.isoformat(), m[1].seconds / H, "h",
              *m[2:])
    return compared, agree, closing, skipped_half, not_comparable, len(mismatches)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per engine; best kept")
    args = ap.parse_args(argv)

    calendars = [make_calendar("TR"), make_calendar("US")]
    cases = make_cases(args.cases, args.seed, calendars)
    pandas_offsets(cases)
    n = len(cases)
    paused = sum(1 for c in cases if c.pauses)
    open_paused = sum(1 for c in cases if any(b is None for _, b in c.pauses))
    half_hour = sum(1 for c in cases if c.seconds % H)

    # warm-up and results (builds the timelines over the whole range once)
    ours = run_ours_datetime(cases)
    epoch = run_ours_epoch(cases)
    core = run_pandas_core(cases)
    aware = run_pandas_aware(cases)

    timings = {
        "ours, datetime API": best_of(run_ours_datetime, cases, args.repeat),
        "ours, epoch API": best_of(run_ours_epoch, cases, args.repeat),
        "pandas CBH, core": best_of(run_pandas_core, cases, args.repeat),
        "pandas CBH, aware": best_of(run_pandas_aware, cases, args.repeat),
    }
    # the same split by pauses (converting pause datetimes dominates the paused cases)
    plain = [c for c in cases if not c.pauses]
    with_pauses = [c for c in cases if c.pauses]
    split = {
        "no pauses": (len(plain),
                      best_of(run_ours_datetime, plain, args.repeat),
                      best_of(run_ours_epoch, plain, args.repeat),
                      best_of(run_pandas_core, plain, args.repeat)),
        "with pauses": (len(with_pauses),
                        best_of(run_ours_datetime, with_pauses, args.repeat),
                        best_of(run_ours_epoch, with_pauses, args.repeat),
                        best_of(run_pandas_core, with_pauses, args.repeat)),
    }

    print(f"{n} cases (seed {args.seed}): TR {sum(c.cal.name == 'TR' for c in cases)}, "
          f"US {sum(c.cal.name == 'US' for c in cases)}; {paused} with pauses "
          f"({open_paused} with an open pause), {half_hour} of 30 minutes; best of "
          f"{args.repeat} runs")
    print(f"python {sys.version.split()[0]}, pandas {pd.__version__}")
    print()
    print(f"{'engine':22s} {'deadlines/s':>12s} {'µs/deadline':>12s} {'vs pandas core':>15s} "
          f"{'vs pandas aware':>16s}")
    p_core, p_aware = timings["pandas CBH, core"], timings["pandas CBH, aware"]
    for name, secs in timings.items():
        print(f"{name:22s} {n / secs:12,.0f} {secs / n * 1e6:12.2f} {p_core / secs:14.1f}x "
              f"{p_aware / secs:15.1f}x")
    print()
    for label, (k, dt_s, ep_s, pd_s) in split.items():
        if k:
            print(f"{label:12s} ({k:5d} cases): datetime API {dt_s / k * 1e6:5.2f} µs "
                  f"({pd_s / dt_s:4.1f}x pandas core), epoch API {ep_s / k * 1e6:5.2f} µs "
                  f"({pd_s / ep_s:4.1f}x), pandas core {pd_s / k * 1e6:5.1f} µs")
    print()
    print("pandas rows: paused cases timed without their pauses, 30-minute cases as 1 hour.")

    compared, agree, closing, skipped_half, not_comparable, bad = check_agreement(
        cases, ours, epoch, core, aware)
    print(f"agreement with pandas: {agree}/{compared} non-paused whole-hour cases agree "
          f"({closing} of them end exactly at a closing time, where pandas gives the next "
          f"opening as expected); {skipped_half} TR cases across a half day skipped; "
          f"{not_comparable} paused or 30-minute cases not comparable; datetime and epoch "
          f"APIs agree on all {n} cases" if bad == 0 else f"{bad} MISMATCHES")

    us_dt = timings["ours, datetime API"] / n * 1e6
    us_ep = timings["ours, epoch API"] / n * 1e6
    ratio_dt = p_core / timings["ours, datetime API"]
    ratio_ep = p_core / timings["ours, epoch API"]
    print()
    print(f"goal  < 5 µs/deadline:     datetime API {us_dt:.2f} µs "
          f"{'met' if us_dt < 5 else 'MISSED'}, epoch API {us_ep:.2f} µs "
          f"{'met' if us_ep < 5 else 'MISSED'}")
    print(f"goal >= 20x pandas (core): datetime API {ratio_dt:.1f}x "
          f"{'met' if ratio_dt >= 20 else 'MISSED'}, epoch API {ratio_ep:.1f}x "
          f"{'met' if ratio_ep >= 20 else 'MISSED'}")
    batch_ratio = bench_batch(cases, args.repeat)
    print(f"goal >= 10x pandas batch:  batch CLI {batch_ratio:.1f}x "
          f"{'met' if batch_ratio >= 10 else 'MISSED'}")
    return 1 if bad else 0


# -- the batch CLI (`destek sla deadline` reading JSON lines) -------------------------------------


def batch_lines(cases: list[Case]) -> list[str]:
    out = []
    for c in cases:
        case: dict[str, Any] = {"calendar": c.cal.name, "tz": c.cal.tz,
                                "start": c.start.isoformat(), "minutes": c.seconds // 60}
        if c.pauses:
            case["pauses"] = [[a.isoformat(), b.isoformat() if b else None] for a, b in c.pauses]
        out.append(json.dumps(case))
    return out


def pandas_batch(lines: list[str], offsets: dict[tuple[str, str, int], CustomBusinessHour],
                 out: io.StringIO) -> None:
    """The same job done with pandas: parse each JSON line, add, print one JSON line."""
    for line in lines:
        case = json.loads(line)
        tz = case["tz"]
        start = pd.Timestamp(case["start"]).tz_convert(tz).tz_localize(None)
        off = offsets[(case["calendar"], tz, max(1, math.ceil(case["minutes"] / 60)))]
        result = (start + off).tz_localize(tz)
        out.write(json.dumps({"deadline": result.isoformat()}))
        out.write("\n")


def bench_batch(cases: list[Case], repeat: int) -> float:
    """Batch CLI (bot.cli.sla_batch, what `destek sla deadline` runs on stdin) vs a pandas batch."""
    from bot.cli.sla_batch import DeadlineCalculator

    lines = batch_lines(cases)
    offsets = {(c.cal.name, c.cal.tz, c.n_hours): c.offset for c in cases}

    def ours() -> float:
        buf = io.StringIO()
        t0 = time.perf_counter()
        DeadlineCalculator().run(lines, buf)
        return time.perf_counter() - t0

    def theirs() -> float:
        buf = io.StringIO()
        t0 = time.perf_counter()
        pandas_batch(lines, offsets, buf)  # type: ignore[arg-type]
        return time.perf_counter() - t0

    ours()
    theirs()
    t_ours = min(ours() for _ in range(repeat))
    t_pd = min(theirs() for _ in range(repeat))
    n = len(lines)
    print()
    print(f"batch (JSON lines in, JSON lines out, {n} cases, calendars built per run):")
    print(f"  destek batch   {n / t_ours:10,.0f} cases/s  {t_ours / n * 1e6:6.2f} µs/case")
    print(f"  pandas batch   {n / t_pd:10,.0f} cases/s  {t_pd / n * 1e6:6.2f} µs/case")
    print(f"  ratio          {t_pd / t_ours:10.1f}x")
    return t_pd / t_ours


if __name__ == "__main__":
    sys.exit(main())
