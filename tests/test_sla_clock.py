"""Business-time arithmetic: adding, measuring, pauses, closing times, DST and year ends.

Every expected instant below is worked out by hand in the comment beside it.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sla import add_business_time, business_time_between, make_calendar, merge_pauses
from sla.clock import add_business_seconds, business_seconds_between
from sla.timeline import Timeline

IST = ZoneInfo("Europe/Istanbul")
DXB = ZoneInfo("Asia/Dubai")
NY = ZoneInfo("America/New_York")
CHI = ZoneInfo("America/Chicago")

TR = make_calendar("TR")
ME = make_calendar("ME")
US = make_calendar("US")
ALWAYS = make_calendar("24x7")


def tr(*a: int) -> datetime:
    return datetime(*a, tzinfo=IST)  # type: ignore[arg-type, misc]


def ny(*a: int) -> datetime:
    return datetime(*a, tzinfo=NY)  # type: ignore[arg-type, misc]


def dxb(*a: int) -> datetime:
    return datetime(*a, tzinfo=DXB)  # type: ignore[arg-type, misc]


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


# -- the worked example ------------------------------------------------------------------


def test_worked_example_tr_friday_with_a_monday_pause():
    # Fri 2026-11-27 16:30 +03:00, 240 min: Fri 16:30-17:00 = 30m; Mon 08:00-09:00 = 60m (90m);
    # paused 09:00-10:00; 10:00 + 150m = 12:30.
    got = add_business_time(
        TR, tr(2026, 11, 27, 16, 30), timedelta(minutes=240),
        [(tr(2026, 11, 30, 9), tr(2026, 11, 30, 10))],
    )
    assert got is not None
    assert got.isoformat() == "2026-11-30T12:30:00+03:00"
    back = business_time_between(
        TR, tr(2026, 11, 27, 16, 30), got, [(tr(2026, 11, 30, 9), tr(2026, 11, 30, 10))]
    )
    assert back == timedelta(minutes=240)


def test_same_example_without_the_pause():
    got = add_business_time(TR, tr(2026, 11, 27, 16, 30), timedelta(minutes=240))
    assert got == tr(2026, 11, 30, 11, 30)


# -- start outside opening hours -----------------------------------------------------------------


def test_start_before_opening_counts_from_opening():
    assert add_business_time(TR, tr(2026, 11, 30, 6, 15), hours(1)) == tr(2026, 11, 30, 9)
    assert add_business_time(TR, tr(2026, 11, 30, 7, 59, 59), hours(1)) == tr(2026, 11, 30, 9)


def test_start_after_closing_counts_from_next_opening():
    assert add_business_time(TR, tr(2026, 11, 30, 19), hours(1)) == tr(2026, 12, 1, 9)


def test_start_at_closing_counts_from_next_opening():
    assert add_business_time(TR, tr(2026, 11, 30, 17), hours(1)) == tr(2026, 12, 1, 9)


def test_start_on_weekend_counts_from_monday():
    assert add_business_time(TR, tr(2026, 11, 28, 11), hours(2)) == tr(2026, 11, 30, 10)
    assert add_business_time(US, ny(2026, 11, 29, 23), hours(2)) == ny(2026, 11, 30, 10)


def test_start_exactly_at_opening():
    assert add_business_time(TR, tr(2026, 11, 30, 8), hours(1)) == tr(2026, 11, 30, 9)


def test_start_on_a_holiday_counts_from_next_business_day():
    # Republic Day Thu 2026-10-29 -> Fri 08:00
    assert add_business_time(TR, tr(2026, 10, 29, 10), hours(1)) == tr(2026, 10, 30, 9)


# -- the closing-time rule -----------------------------------------------------------------------


def test_deadline_on_closing_time_is_that_closing_time():
    # pandas would say Tue 08:00; we say Mon 17:00
    assert add_business_time(TR, tr(2026, 11, 30, 16), hours(1)) == tr(2026, 11, 30, 17)
    assert add_business_time(TR, tr(2026, 11, 30, 8), hours(9)) == tr(2026, 11, 30, 17)
    # Fri 16:00 + 1h is Fri 17:00, not Mon 08:00
    assert add_business_time(TR, tr(2026, 11, 27, 16), hours(1)) == tr(2026, 11, 27, 17)
    # two full days from an opening end on the second day's closing
    assert add_business_time(US, ny(2026, 11, 30, 8), hours(18)) == ny(2026, 12, 1, 17)


def test_deadline_on_half_day_closing_is_13_00():
    # Wed 2026-10-28 is a half day: 08:00 + 5h = 13:00 that day
    assert add_business_time(TR, tr(2026, 10, 28, 8), hours(5)) == tr(2026, 10, 28, 13)


def test_one_second_past_closing_moves_to_next_opening():
    got = add_business_time(TR, tr(2026, 11, 30, 16), hours(1) + timedelta(seconds=1))
    assert got == tr(2026, 12, 1, 8, 0, 1)


def test_results_to_the_second():
    got = add_business_time(TR, tr(2026, 11, 30, 9, 0, 7), timedelta(seconds=3601))
    assert got == tr(2026, 11, 30, 10, 0, 8)
    assert got.microsecond == 0
    assert business_time_between(TR, tr(2026, 11, 30, 9, 0, 7), got) == timedelta(seconds=3601)


# -- measuring -----------------------------------------------------------------------------------


def test_business_time_between_basic():
    # Fri 16:00 -> Mon 10:00: 1h + 2h
    assert business_time_between(TR, tr(2026, 11, 27, 16), tr(2026, 11, 30, 10)) == hours(3)
    assert business_time_between(TR, tr(2026, 11, 28, 0), tr(2026, 11, 29, 23)) == hours(0)
    # a week: five business days
    assert business_time_between(TR, tr(2026, 11, 30, 0), tr(2026, 12, 7, 0)) == hours(45)


def test_business_time_between_reversed_or_equal_is_zero():
    assert business_time_between(TR, tr(2026, 11, 30, 12), tr(2026, 11, 30, 10)) == hours(0)
    assert business_time_between(TR, tr(2026, 11, 30, 12), tr(2026, 11, 30, 12)) == hours(0)


def test_business_time_between_accepts_any_timezone():
    a = tr(2026, 11, 30, 8).astimezone(UTC)
    b = tr(2026, 11, 30, 10).astimezone(ZoneInfo("Asia/Tokyo"))
    assert business_time_between(TR, a, b) == hours(2)


def test_naive_datetimes_are_rejected():
    with pytest.raises(ValueError, match="naive"):
        add_business_time(TR, datetime(2026, 11, 30, 9), hours(1))
    with pytest.raises(ValueError, match="naive"):
        business_time_between(TR, tr(2026, 11, 30, 9), datetime(2026, 11, 30, 10))
    with pytest.raises(ValueError, match="naive"):
        add_business_time(TR, tr(2026, 11, 30, 9), hours(1), [(datetime(2026, 11, 30, 9), None)])


def test_results_are_aware_in_the_calendar_timezone():
    start = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # 09:00 Istanbul
    got = add_business_time(TR, start, hours(1))
    assert got is not None
    assert got.tzinfo is not None and got.tzinfo == IST
    assert got.isoformat() == "2026-11-30T10:00:00+03:00"
    chi = make_calendar("US", tz="America/Chicago")
    got = add_business_time(chi, start, hours(1))
    assert got is not None and got.tzinfo == CHI
    assert got.isoformat() == "2026-11-30T09:00:00-06:00"


# -- holidays ------------------------------------------------------------------------------------


def test_tr_republic_day_eve_half_day():
    # Wed 2026-10-28 12:00 + 2h: 12:00-13:00 (half day), Thu 29 closed, Fri 08:00 + 1h
    assert add_business_time(TR, tr(2026, 10, 28, 12), hours(2)) == tr(2026, 10, 30, 9)
    # after the half day's close: nothing until Friday
    assert add_business_time(TR, tr(2026, 10, 28, 14), hours(1)) == tr(2026, 10, 30, 9)
    # Tue 16:00 + 1d (9h): Tue 1h, Wed 5h (08-13), Fri 08:00 + 3h
    assert add_business_time(TR, tr(2026, 10, 27, 16), hours(9)) == tr(2026, 10, 30, 11)
    assert business_time_between(TR, tr(2026, 10, 26, 0), tr(2026, 11, 2, 0)) == hours(
        9 + 9 + 5 + 0 + 9
    )


def test_tr_ramazan_bayrami_2026():
    # Thu 2026-03-19 half day, Fri 20 (and the weekend 21-22) holiday
    # Thu 10:00 + 4h: 10-13 = 3h, Mon 23 08:00 + 1h
    assert add_business_time(TR, tr(2026, 3, 19, 10), hours(4)) == tr(2026, 3, 23, 9)
    # Wed 18 full (9h) + Thu 19 half (5h) + Mon 23 full (9h)
    assert business_time_between(TR, tr(2026, 3, 18, 8), tr(2026, 3, 23, 17)) == hours(23)


def test_me_across_friday_saturday_weekend():
    # Thu 2026-11-26 16:00 +04:00 + 4h: Thu 1h, Fri/Sat closed, Sun 08:00 + 3h
    got = add_business_time(ME, dxb(2026, 11, 26, 16), hours(4))
    assert got is not None and got.isoformat() == "2026-11-29T11:00:00+04:00"


def test_me_across_uae_national_day():
    # Tue 2026-12-01 15:00 + 4h: Tue 2h, Wed 2 + Thu 3 National Day, Fri/Sat weekend,
    # Sun 6 08:00 + 2h
    got = add_business_time(ME, dxb(2026, 12, 1, 15), hours(4))
    assert got is not None and got.isoformat() == "2026-12-06T10:00:00+04:00"


def test_me_turkish_holiday_applies_in_dubai():
    # Wed 2026-10-28 16:00 + 2h: Wed 1h (no half day on ME), Thu 29 Republic Day,
    # Fri/Sat weekend, Sun 11-01 08:00 + 1h
    assert add_business_time(ME, dxb(2026, 10, 28, 16), hours(2)) == dxb(2026, 11, 1, 9)


def test_us_thanksgiving_2026():
    # Wed 2026-11-25 16:00 EST + 2h: Wed 1h, Thu 26 closed, Fri 27 08:00 + 1h
    got = add_business_time(US, ny(2026, 11, 25, 16), hours(2))
    assert got is not None and got.isoformat() == "2026-11-27T09:00:00-05:00"


# -- DST -----------------------------------------------------------------------------------------


def test_us_spring_forward_2026_03_08():
    # Fri 2026-03-06 16:00 EST + 2h: Fri 1h, Mon 9 08:00 EDT + 1h
    got = add_business_time(US, ny(2026, 3, 6, 16), hours(2))
    assert got is not None and got.isoformat() == "2026-03-09T09:00:00-04:00"
    assert business_time_between(US, ny(2026, 3, 6, 16), got) == hours(2)
    # a whole week across the change still has 5 x 9h
    assert business_time_between(US, ny(2026, 3, 2, 0), ny(2026, 3, 14, 0)) == hours(90)


def test_us_fall_back_2026_11_01():
    # Fri 2026-10-30 16:00 EDT + 2h: Fri 1h, Mon 11-02 08:00 EST + 1h
    got = add_business_time(US, ny(2026, 10, 30, 16), hours(2))
    assert got is not None and got.isoformat() == "2026-11-02T09:00:00-05:00"
    assert business_time_between(US, ny(2026, 10, 30, 16), got) == hours(2)


def test_us_in_chicago_across_dst():
    chi = make_calendar("US", tz="America/Chicago")
    got = add_business_time(chi, datetime(2026, 3, 6, 16, tzinfo=CHI), hours(2))
    assert got is not None and got.isoformat() == "2026-03-09T09:00:00-05:00"
    got = add_business_time(chi, datetime(2026, 10, 30, 16, tzinfo=CHI), hours(2))
    assert got is not None and got.isoformat() == "2026-11-02T09:00:00-06:00"


def test_around_the_clock_counts_real_hours_across_dst():
    cal = make_calendar("24x7", tz="America/New_York")
    # 24 real hours across the spring-forward night is 13:00 EDT on the wall clock
    got = add_business_time(cal, ny(2026, 3, 7, 12), hours(24))
    assert got is not None and got.isoformat() == "2026-03-08T13:00:00-04:00"
    # 00:30 EDT + 2h on the fall-back night is the second 01:30, in EST
    got = add_business_time(cal, ny(2026, 11, 1, 0, 30), hours(2))
    assert got is not None and got.isoformat() == "2026-11-01T01:30:00-05:00"
    assert business_time_between(cal, ny(2026, 11, 1, 0), ny(2026, 11, 2, 0)) == hours(25)


# -- year ends -----------------------------------------------------------------------------------


def test_tr_year_end():
    # Thu 2026-12-31 16:00 + 2h: Thu 1h, Fri 2027-01-01 holiday, weekend, Mon 4 08:00 + 1h
    assert add_business_time(TR, tr(2026, 12, 31, 16), hours(2)) == tr(2027, 1, 4, 9)


def test_us_year_end_dec_31_to_jan_2():
    # Wed 2025-12-31 16:00 + 2h: Wed 1h, Thu 2026-01-01 holiday, Fri 2 08:00 + 1h
    got = add_business_time(US, ny(2025, 12, 31, 16), hours(2))
    assert got is not None and got.isoformat() == "2026-01-02T09:00:00-05:00"


def test_me_year_end():
    # Thu 2026-12-31 16:00 Dubai + 2h: Thu 1h, Fri 1 Jan (holiday and weekend), Sat,
    # Sun 2027-01-03 08:00 + 1h
    assert add_business_time(ME, dxb(2026, 12, 31, 16), hours(2)) == dxb(2027, 1, 3, 9)


def test_twenty_business_days_from_2026_12_20_tr():
    # Sun 20 -> Mon 21 08:00. Dec 21-25 (5), 28-31 (4), Jan 1 holiday, Jan 4-8 (5),
    # 11-15 (5) = 19 days, Mon 18 is the 20th: ends at its closing time.
    got = add_business_time(TR, tr(2026, 12, 20, 10), hours(20 * 9))
    assert got is not None and got.isoformat() == "2027-01-18T17:00:00+03:00"


def test_twenty_business_days_from_2026_12_20_us():
    # Dec 21-24 (4), 25 Christmas, 28-31 (4), Jan 1 holiday, Jan 4-8 (5), 11-15 (5) = 18,
    # Mon 18 is MLK Day, Tue 19 = 19th, Wed 20 = 20th.
    got = add_business_time(US, ny(2026, 12, 20, 10), hours(20 * 9))
    assert got is not None and got.isoformat() == "2027-01-20T17:00:00-05:00"


def test_starts_years_apart_on_one_calendar_object():
    cal = make_calendar("TR", closed=[date(1900, 1, 3)])  # its own cached timeline
    first: dict[int, datetime] = {}
    for year in (2026, 2035, 2019, 2026, 2050, 2010, 2035):
        start = tr(year, 11, 27, 16, 30)
        got = add_business_time(cal, start, hours(20 * 9))
        # the same question on a brand-new timeline
        fresh = add_business_seconds(Timeline(cal), start.timestamp(), 20 * 9 * 3600)
        assert got is not None and got.timestamp() == fresh
        assert first.setdefault(year, got) == got
    assert add_business_time(cal, tr(2026, 11, 27, 16, 30), hours(1)) == tr(2026, 11, 30, 8, 30)


# -- pauses --------------------------------------------------------------------------------------


def test_pause_across_closed_hours():
    # Fri 15:00 + 2h; paused Fri 16:00 -> Mon 09:00: Fri 1h, Mon 09:00 + 1h
    pauses = [(tr(2026, 11, 27, 16), tr(2026, 11, 30, 9))]
    assert add_business_time(TR, tr(2026, 11, 27, 15), hours(2), pauses) == tr(2026, 11, 30, 10)


def test_pause_entirely_in_closed_hours_changes_nothing():
    pauses = [(tr(2026, 11, 28, 9), tr(2026, 11, 29, 18)), (tr(2026, 11, 30, 17, 30),
                                                              tr(2026, 12, 1, 7))]
    start = tr(2026, 11, 27, 15)
    assert add_business_time(TR, start, hours(12), pauses) == add_business_time(
        TR, start, hours(12)
    )


def test_overlapping_pauses_merge():
    start = tr(2026, 11, 30, 8)
    a = add_business_time(TR, start, hours(4), [(tr(2026, 11, 30, 9), tr(2026, 11, 30, 11)),
                                               (tr(2026, 11, 30, 10), tr(2026, 11, 30, 12))])
    b = add_business_time(TR, start, hours(4), [(tr(2026, 11, 30, 9), tr(2026, 11, 30, 12))])
    # 08-09 (1h), paused 09-12, 12:00 + 3h
    assert a == b == tr(2026, 11, 30, 15)


def test_nested_and_touching_pauses():
    pauses = [
        (tr(2026, 11, 30, 9), tr(2026, 11, 30, 12)),
        (tr(2026, 11, 30, 10), tr(2026, 11, 30, 11)),  # inside the first
        (tr(2026, 11, 30, 12), tr(2026, 11, 30, 13)),  # touching it
    ]
    # 08-09 1h, paused 09-13, 13:00 + 3h
    assert add_business_time(TR, tr(2026, 11, 30, 8), hours(4), pauses) == tr(2026, 11, 30, 16)
    assert merge_pauses(pauses) == [
        (tr(2026, 11, 30, 9).timestamp(), tr(2026, 11, 30, 13).timestamp())
    ]


def test_start_inside_a_pause():
    pauses = [(tr(2026, 11, 30, 7), tr(2026, 11, 30, 10))]
    assert add_business_time(TR, tr(2026, 11, 30, 9), hours(1), pauses) == tr(2026, 11, 30, 11)


def test_pause_ending_before_start_is_ignored():
    pauses = [(tr(2026, 11, 27, 9), tr(2026, 11, 27, 10))]
    assert add_business_time(TR, tr(2026, 11, 30, 9), hours(1), pauses) == tr(2026, 11, 30, 10)


def test_pause_after_deadline_is_ignored():
    pauses = [(tr(2026, 11, 30, 12), tr(2026, 11, 30, 14))]
    assert add_business_time(TR, tr(2026, 11, 30, 9), hours(1), pauses) == tr(2026, 11, 30, 10)


def test_pause_starting_exactly_at_the_deadline_does_not_move_it():
    pauses = [(tr(2026, 11, 30, 10), tr(2026, 11, 30, 14))]
    assert add_business_time(TR, tr(2026, 11, 30, 9), hours(1), pauses) == tr(2026, 11, 30, 10)


def test_zero_length_pause_is_ignored():
    pauses = [(tr(2026, 11, 30, 9, 30), tr(2026, 11, 30, 9, 30))]
    assert add_business_time(TR, tr(2026, 11, 30, 9), hours(1), pauses) == tr(2026, 11, 30, 10)


def test_open_pause_stops_the_clock():
    pauses = [(tr(2026, 11, 30, 9, 30), None)]
    assert add_business_time(TR, tr(2026, 11, 30, 9), hours(1), pauses) is None
    # still None with further pauses around it
    more = pauses + [(tr(2026, 11, 30, 9), tr(2026, 11, 30, 9, 10))]
    assert add_business_time(TR, tr(2026, 11, 30, 9), hours(1), more) is None


def test_open_pause_before_the_start_stops_the_clock():
    pauses = [(tr(2026, 11, 27, 9), None)]
    assert add_business_time(TR, tr(2026, 11, 30, 9), hours(1), pauses) is None


def test_open_pause_after_the_deadline_does_not_matter():
    pauses = [(tr(2026, 11, 30, 10), None)]
    assert add_business_time(TR, tr(2026, 11, 30, 9), hours(1), pauses) == tr(2026, 11, 30, 10)


def test_open_pause_in_closed_hours_before_the_deadline_stops_the_clock():
    pauses = [(tr(2026, 11, 28, 10), None)]  # Saturday
    assert add_business_time(TR, tr(2026, 11, 27, 16), hours(2), pauses) is None


def test_business_time_between_excludes_pauses():
    pauses = [(tr(2026, 11, 30, 9), tr(2026, 11, 30, 11)), (tr(2026, 11, 30, 10), None)]
    # 08-09 only; the open pause runs from 10:00 (merged: paused from 09:00 on)
    assert business_time_between(TR, tr(2026, 11, 30, 8), tr(2026, 12, 2, 8), pauses) == hours(1)
    pauses = [(tr(2026, 11, 30, 9), tr(2026, 11, 30, 11))]
    assert business_time_between(TR, tr(2026, 11, 30, 8), tr(2026, 11, 30, 12), pauses) == hours(2)
    # pause sticking out on both sides of the interval
    pauses = [(tr(2026, 11, 30, 7), tr(2026, 11, 30, 20))]
    assert business_time_between(TR, tr(2026, 11, 30, 8), tr(2026, 11, 30, 12), pauses) == hours(0)


def test_merge_pauses_in_epoch_seconds():
    got = merge_pauses([
        (tr(2026, 11, 30, 12), None),
        (tr(2026, 11, 30, 9), tr(2026, 11, 30, 10)),
        (tr(2026, 11, 30, 9, 30), tr(2026, 11, 30, 10, 30)),
        (tr(2026, 11, 30, 11), tr(2026, 11, 30, 11)),
    ])
    assert got == [
        (tr(2026, 11, 30, 9).timestamp(), tr(2026, 11, 30, 10, 30).timestamp()),
        (tr(2026, 11, 30, 12).timestamp(), math.inf),
    ]


# -- the epoch-level API -------------------------------------------------------------------------


def test_epoch_api_matches_datetime_api():
    tl = TR.timeline()
    start = tr(2026, 11, 27, 16, 30)
    pauses = [(tr(2026, 11, 30, 9), tr(2026, 11, 30, 10))]
    end = add_business_seconds(tl, start.timestamp(), 240 * 60, merge_pauses(pauses))
    assert end == tr(2026, 11, 30, 12, 30).timestamp()
    assert business_seconds_between(tl, start.timestamp(), end, merge_pauses(pauses)) == 240 * 60
    assert add_business_seconds(tl, start.timestamp(), 60, [(start.timestamp(), math.inf)]) is None


def test_zero_amount_gives_the_next_opening():
    assert add_business_time(TR, tr(2026, 11, 28, 10), timedelta(0)) == tr(2026, 11, 30, 8)
    assert add_business_time(TR, tr(2026, 11, 30, 10), timedelta(0)) == tr(2026, 11, 30, 10)
