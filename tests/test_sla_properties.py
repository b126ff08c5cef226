"""Properties of business-time arithmetic, checked with hypothesis on random cases."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from sla import BusinessCalendar, add_business_time, business_time_between, make_calendar

CALENDARS = [
    make_calendar("TR"),
    make_calendar("US"),
    make_calendar("ME"),
    make_calendar("US", tz="America/Chicago", hours="09:00-18:00"),
    make_calendar("24x7", tz="America/New_York"),
]
# Warm the timelines over the whole range the strategies draw from, so no example pays for it.
for _cal in CALENDARS:
    _cal.timeline().ensure(datetime(2023, 6, 1, tzinfo=UTC).timestamp())
    _cal.timeline().ensure(datetime(2033, 6, 1, tzinfo=UTC).timestamp())

LO = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
HI = int(datetime(2029, 12, 31, tzinfo=UTC).timestamp())
MAX_TARGET = 20 * 9 * 3600  # 20 business days of 9 h

PROPS = settings(max_examples=200, deadline=None)

calendars = st.sampled_from(CALENDARS)
# Starts to the second; a third of them on whole hours, so they hit openings and closings.
epochs = st.one_of(
    st.integers(LO, HI),
    st.integers(LO // 3600, HI // 3600).map(lambda h: h * 3600),
)
amounts = st.one_of(
    st.integers(1, MAX_TARGET),
    st.sampled_from([1800, 3600, 2 * 3600, 4 * 3600, 9 * 3600, 18 * 3600, 45 * 3600]),
)


@st.composite
def closed_pauses(draw, start: int, n_max: int = 3):
    """Up to ``n_max`` closed pauses near ``start`` (before it, across it, after it)."""
    out = []
    for _ in range(draw(st.integers(0, n_max))):
        a = start + draw(st.integers(-3 * 86400, 20 * 86400))
        length = draw(st.integers(1, 4 * 86400))
        out.append((a, a + length))
    return out


def aware(t: float, cal: BusinessCalendar) -> datetime:
    return datetime.fromtimestamp(t, cal.zone)


def as_pauses(spans, cal) -> list[tuple[datetime, datetime | None]]:
    return [(aware(a, cal), None if b is None else aware(b, cal)) for a, b in spans]


@st.composite
def cases(draw, allow_open: bool = False):
    cal = draw(calendars)
    start = draw(epochs)
    amount = draw(amounts)
    spans: list[tuple[int, int | None]] = list(draw(closed_pauses(start)))
    if allow_open and draw(st.booleans()):
        spans.append((start + draw(st.integers(-86400, 30 * 86400)), None))
    return cal, start, amount, spans


@PROPS
@given(cases(allow_open=True))
def test_add_then_measure_gives_the_amount_back(case):
    cal, start, amount, spans = case
    pauses = as_pauses(spans, cal)
    got = add_business_time(cal, aware(start, cal), timedelta(seconds=amount), pauses)
    if got is None:  # an open pause stopped the clock
        assert any(b is None for _, b in spans)
        return
    assert business_time_between(cal, aware(start, cal), got, pauses) == timedelta(seconds=amount)


@PROPS
@given(cases())
def test_deadlines_never_fall_in_closed_time_unless_at_a_closing_time(case):
    cal, start, amount, spans = case
    tl = cal.timeline()
    for pauses in ([], as_pauses(spans, cal)):
        got = add_business_time(cal, aware(start, cal), timedelta(seconds=amount), pauses)
        assert got is not None
        t = got.timestamp()
        if not tl.is_open(t):
            i = bisect.bisect_left(tl.ends, t)
            assert i < len(tl.ends) and tl.ends[i] == t, f"{got} is in closed time"
        if pauses:
            # the last business second before a deadline is never a paused one
            assert not any(a < t <= b for a, b in spans if b is not None), f"{got} paused"


@PROPS
@given(cases(allow_open=True), st.data())
def test_adding_a_pause_never_makes_a_deadline_earlier(case, data):
    cal, start, amount, spans = case
    extra_start = start + data.draw(st.integers(-86400, 25 * 86400))
    extra_end = data.draw(st.one_of(st.none(), st.integers(extra_start, extra_start + 5 * 86400)))
    before = add_business_time(cal, aware(start, cal), timedelta(seconds=amount),
                               as_pauses(spans, cal))
    after = add_business_time(cal, aware(start, cal), timedelta(seconds=amount),
                              as_pauses([*spans, (extra_start, extra_end)], cal))
    if before is None:
        assert after is None
    elif after is not None:
        assert after >= before


@PROPS
@given(cases(), st.integers(1, 9 * 3600))
def test_more_business_time_never_gives_an_earlier_deadline(case, more):
    cal, start, amount, spans = case
    pauses = as_pauses(spans, cal)
    a = add_business_time(cal, aware(start, cal), timedelta(seconds=amount), pauses)
    b = add_business_time(cal, aware(start, cal), timedelta(seconds=amount + more), pauses)
    assert a is not None and b is not None and b > a


@PROPS
@given(cases(), st.sampled_from(["UTC", "Asia/Tokyo", "America/Los_Angeles"]))
def test_results_are_aware_in_the_calendar_timezone(case, input_tz):
    from zoneinfo import ZoneInfo

    cal, start, amount, spans = case
    start_dt = datetime.fromtimestamp(start, ZoneInfo(input_tz))
    got = add_business_time(cal, start_dt, timedelta(seconds=amount), as_pauses(spans, cal))
    assert got is not None
    assert got.tzinfo is not None and got.utcoffset() is not None
    assert got.tzinfo == cal.zone
    assert got.microsecond == 0  # whole-second inputs give whole-second results
    # the input's timezone does not matter
    same = add_business_time(cal, aware(start, cal), timedelta(seconds=amount),
                             as_pauses(spans, cal))
    assert same == got and same is not None and same.utcoffset() == got.utcoffset()


@PROPS
@given(cases(), st.integers(0, 30 * 86400))
def test_measuring_is_additive(case, gap):
    cal, start, _amount, spans = case
    pauses = as_pauses(spans, cal)
    a, c = aware(start, cal), aware(start + gap, cal)
    b = aware(start + gap // 3, cal)
    whole = business_time_between(cal, a, c, pauses)
    assert whole == business_time_between(cal, a, b, pauses) + business_time_between(
        cal, b, c, pauses
    )
    assert timedelta(0) <= whole <= business_time_between(cal, a, c)


@PROPS
@given(cases())
def test_splitting_a_target_in_two_gives_the_same_deadline(case):
    """Adding x then y equals adding x + y, even when x ends on a closing time."""
    cal, start, amount, _spans = case
    first = amount // 2
    mid = add_business_time(cal, aware(start, cal), timedelta(seconds=first))
    whole = add_business_time(cal, aware(start, cal), timedelta(seconds=amount))
    assert mid is not None and whole is not None
    rest = add_business_time(cal, mid, timedelta(seconds=amount - first))
    assert rest == whole
