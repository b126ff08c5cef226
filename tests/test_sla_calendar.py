"""Business calendars: presets, overrides, holidays, half days, errors and the lazy timeline."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from sla import PRESETS, BusinessCalendar, CalendarError, Hours, make_calendar, parse_hours
from sla.clock import add_business_time, business_time_between
from sla.timeline import Timeline

IST = ZoneInfo("Europe/Istanbul")
DXB = ZoneInfo("Asia/Dubai")
NY = ZoneInfo("America/New_York")
CHI = ZoneInfo("America/Chicago")
H = 3600


def local_intervals(cal: BusinessCalendar, day: date) -> list[tuple[str, str]]:
    """Open intervals of one day as local ``HH:MM`` pairs."""
    zone = cal.zone
    out = []
    for s, e in cal.day_intervals(day):
        a = datetime.fromtimestamp(s, zone)
        b = datetime.fromtimestamp(e, zone)
        out.append((a.strftime("%H:%M"), b.strftime("%H:%M")))
    return out


# -- presets -------------------------------------------------------------------------------------


def test_preset_tr_definition():
    cal = make_calendar("TR")
    assert cal.tz == "Europe/Istanbul"
    assert cal.days == (0, 1, 2, 3, 4)
    assert cal.hours == Hours(time(8), time(17))
    assert cal.holiday_sets == ("TR",)
    assert cal.half_day_sets == ("TR",)
    assert cal.half_day_close == time(13)
    assert cal.business_day_seconds == 9 * H


def test_preset_me_definition():
    cal = make_calendar("ME")
    assert cal.tz == "Asia/Dubai"
    assert sorted(cal.days) == [0, 1, 2, 3, 6]  # Sunday..Thursday
    assert cal.hours == Hours(time(8), time(17))
    assert set(cal.holiday_sets) == {"AE", "TR"}


def test_preset_us_definition():
    cal = make_calendar("US")
    assert cal.tz == "America/New_York"
    assert cal.days == (0, 1, 2, 3, 4)
    assert cal.holiday_sets == ("US",)
    assert cal.business_day_seconds == 9 * H


def test_preset_24x7_always_open():
    cal = make_calendar("24x7")
    assert cal.business_day_seconds == 24 * H
    # weekends and any country's holidays are open
    for day in (date(2026, 1, 1), date(2026, 10, 29), date(2026, 11, 28), date(2026, 12, 25)):
        (s, e), = cal.day_intervals(day)
        assert e - s == 24 * H
    tl = Timeline(cal)
    t = datetime(2026, 12, 31, 23, 59, tzinfo=ZoneInfo("UTC")).timestamp()
    assert tl.is_open(t)
    assert tl.add(t, 2 * 86400 + 60) == t + 2 * 86400 + 60


def test_presets_mapping_has_the_four_calendars():
    assert set(PRESETS) == {"TR", "ME", "US", "24x7"}


def test_preset_name_is_case_insensitive():
    assert make_calendar("tr") == make_calendar("TR")
    assert make_calendar("us").tz == "America/New_York"


# -- overrides -----------------------------------------------------------------------------------


def test_timezone_override_us_in_chicago():
    cal = make_calendar("US", tz="America/Chicago")
    assert cal.tz == "America/Chicago"
    assert cal.zone == CHI
    assert local_intervals(cal, date(2026, 11, 25)) == [("08:00", "17:00")]
    # the federal holidays stay
    assert cal.day_intervals(date(2026, 11, 26)) == []
    # 08:00 Chicago is 09:00 New York
    got = add_business_time(cal, datetime(2026, 11, 25, 7, 0, tzinfo=CHI), timedelta(hours=1))
    assert got == datetime(2026, 11, 25, 9, 0, tzinfo=CHI)
    assert got.isoformat() == "2026-11-25T09:00:00-06:00"


def test_timezone_override_on_every_preset():
    for name in PRESETS:
        cal = make_calendar(name, tz="Asia/Tokyo")
        assert cal.tz == "Asia/Tokyo"
        assert cal.zone == ZoneInfo("Asia/Tokyo")


def test_custom_hours_and_closed_dates():
    cal = make_calendar("US", hours="09:00-18:00", closed=[date(2026, 12, 24)])
    assert cal.hours == Hours(time(9), time(18))
    assert cal.business_day_seconds == 9 * H
    assert local_intervals(cal, date(2026, 12, 23)) == [("09:00", "18:00")]
    assert cal.day_intervals(date(2026, 12, 24)) == []
    assert cal.day_intervals(date(2026, 12, 25)) == []  # Christmas still closed
    assert date(2026, 12, 24) in cal.closed_days(2026)
    # Wed 17:00 + 2h: 1h on Wed, Thu 24 closed (extra), Fri 25 closed (Christmas), Mon +1h
    got = add_business_time(cal, datetime(2026, 12, 23, 17, tzinfo=NY), timedelta(hours=2))
    assert got == datetime(2026, 12, 28, 10, tzinfo=NY)


def test_custom_hours_change_the_business_day():
    assert make_calendar("TR", hours="08:00-12:00").business_day_seconds == 4 * H
    assert make_calendar("TR", hours=Hours(time(9), time(18))).business_day_seconds == 9 * H
    assert make_calendar("US", hours="00:00-24:00").business_day_seconds == 24 * H


def test_custom_hours_with_tr_half_day_close_at_13():
    cal = make_calendar("TR", hours="09:00-18:00")
    assert local_intervals(cal, date(2026, 10, 28)) == [("09:00", "13:00")]
    assert local_intervals(cal, date(2026, 10, 27)) == [("09:00", "18:00")]


def test_afternoon_hours_are_closed_on_a_half_day():
    """A half day closes at 13:00: hours opening at or after 13:00 leave nothing open."""
    cal = make_calendar("TR", hours="14:00-18:00")
    assert cal.day_intervals(date(2026, 10, 28)) == []
    assert local_intervals(cal, date(2026, 10, 27)) == [("14:00", "18:00")]


def test_extra_closed_dates_add_to_the_preset():
    cal = make_calendar("TR", closed=[date(2026, 11, 30), date(2027, 1, 4)])
    assert cal.day_intervals(date(2026, 11, 30)) == []
    assert cal.day_intervals(date(2027, 1, 4)) == []
    assert cal.day_intervals(date(2026, 10, 29)) == []  # Republic Day kept
    assert local_intervals(cal, date(2026, 12, 1)) == [("08:00", "17:00")]


def test_calendars_are_hashable_values_and_share_their_timeline():
    a = make_calendar("TR", closed=[date(2026, 11, 30)])
    b = make_calendar("TR", closed=[date(2026, 11, 30)])
    assert a == b and hash(a) == hash(b)
    assert a.timeline() is b.timeline()
    assert make_calendar("TR").timeline() is not a.timeline()


# -- errors --------------------------------------------------------------------------------------


def test_unknown_preset():
    with pytest.raises(CalendarError) as exc:
        make_calendar("XX")
    msg = str(exc.value)
    assert "'XX'" in msg
    for name in ("TR", "ME", "US", "24x7"):
        assert name in msg
    assert "\n" not in msg


@pytest.mark.parametrize("tz", ["Mars/Olympus", "Europe/Istanbull", "", "../etc/passwd", "UTC "])
def test_unknown_timezone(tz):
    with pytest.raises(CalendarError, match="unknown timezone"):
        make_calendar("US", tz=tz)


def test_calendar_error_is_a_value_error():
    assert issubclass(CalendarError, ValueError)


@pytest.mark.parametrize("text", ["9-5", "17:00-08:00", "08:00", "08:00-08:00", "abc", "8h-17h"])
def test_bad_hours(text):
    with pytest.raises(CalendarError, match="bad hours"):
        make_calendar("TR", hours=text)


def test_parse_hours():
    assert parse_hours("08:00-17:00") == Hours(time(8), time(17))
    assert parse_hours(" 09:30 - 18:15 ") == Hours(time(9, 30), time(18, 15))
    assert parse_hours("00:00-24:00") == Hours(time(0), None)
    assert parse_hours("00:00-24:00").seconds() == 24 * H
    assert parse_hours("09:30-18:15").seconds() == 8 * H + 45 * 60


def test_hours_seconds_counts_seconds_too():
    assert Hours(time(8, 0, 30), time(17)).seconds() == 9 * H - 30


# -- holidays and half days ----------------------------------------------------------------------


def test_tr_republic_day_and_its_half_day_eve():
    cal = make_calendar("TR")
    assert local_intervals(cal, date(2026, 10, 27)) == [("08:00", "17:00")]
    assert local_intervals(cal, date(2026, 10, 28)) == [("08:00", "13:00")]  # half day
    assert cal.day_intervals(date(2026, 10, 29)) == []  # Republic Day
    assert local_intervals(cal, date(2026, 10, 30)) == [("08:00", "17:00")]


def test_tr_ramazan_bayrami_2026():
    cal = make_calendar("TR")
    assert local_intervals(cal, date(2026, 3, 19)) == [("08:00", "13:00")]  # arife, half day
    for d in (20, 21, 22):
        assert cal.day_intervals(date(2026, 3, d)) == []
    assert local_intervals(cal, date(2026, 3, 23)) == [("08:00", "17:00")]


def test_tr_kurban_bayrami_2026_half_day():
    cal = make_calendar("TR")
    assert local_intervals(cal, date(2026, 5, 26)) == [("08:00", "13:00")]
    for d in (27, 28, 29):
        assert cal.day_intervals(date(2026, 5, d)) == []


def test_tr_half_days_listed():
    assert set(make_calendar("TR").half_days(2026)) == {
        date(2026, 3, 19), date(2026, 5, 26), date(2026, 10, 28)
    }


def test_tr_weekend_closed():
    cal = make_calendar("TR")
    assert cal.day_intervals(date(2026, 11, 28)) == []
    assert cal.day_intervals(date(2026, 11, 29)) == []


def test_me_weekend_is_friday_saturday():
    cal = make_calendar("ME")
    assert local_intervals(cal, date(2026, 11, 26)) == [("08:00", "17:00")]  # Thu
    assert cal.day_intervals(date(2026, 11, 27)) == []  # Fri
    assert cal.day_intervals(date(2026, 11, 28)) == []  # Sat
    assert local_intervals(cal, date(2026, 11, 29)) == [("08:00", "17:00")]  # Sun


def test_me_uae_and_turkish_holidays():
    cal = make_calendar("ME")
    assert cal.day_intervals(date(2026, 12, 2)) == []  # UAE National Day
    assert cal.day_intervals(date(2026, 12, 3)) == []
    assert cal.day_intervals(date(2026, 10, 29)) == []  # Turkish Republic Day
    assert cal.day_intervals(date(2026, 3, 19)) == []  # UAE Eid al-Fitr holiday
    # no Turkish half days on the ME calendar: the eve is a full day in Dubai
    assert local_intervals(cal, date(2026, 10, 28)) == [("08:00", "17:00")]


def test_us_federal_holidays():
    cal = make_calendar("US")
    assert cal.day_intervals(date(2026, 11, 26)) == []  # Thanksgiving
    assert local_intervals(cal, date(2026, 11, 27)) == [("08:00", "17:00")]
    assert cal.day_intervals(date(2026, 7, 3)) == []  # Independence Day observed
    assert cal.day_intervals(date(2026, 1, 19)) == []  # MLK Day
    assert cal.day_intervals(date(2027, 12, 31)) == []  # New Year 2028 observed
    assert cal.half_days(2026) == {}


def test_closed_days_have_names():
    days = make_calendar("TR").closed_days(2026)
    assert days[date(2026, 10, 29)] == "Republic Day"
    assert date(2026, 10, 28) not in days


# -- the lazy timeline ---------------------------------------------------------------------------


def _probe(tl: Timeline, tz: ZoneInfo, year: int) -> tuple[float, float, float]:
    t = datetime(year, 6, 12, 16, 15, tzinfo=tz).timestamp()
    return tl.add(t, 20 * 9 * H), tl.between(t, t + 40 * 86400), tl.next_open(t + 3 * H)


def test_timeline_grows_across_years_consistently():
    cal = make_calendar("TR")
    shared = Timeline(cal)
    years = [2026, 2031, 2001, 2026, 2068, 1995, 2027]
    got = [_probe(shared, IST, y) for y in years]
    fresh = [_probe(Timeline(cal), IST, y) for y in years]
    assert got == fresh
    assert shared.first_year <= 1994 and shared.last_year >= 2070


def test_timeline_grows_forward_for_long_targets():
    cal = make_calendar("US")
    tl = Timeline(cal)
    t = datetime(2026, 12, 20, 10, tzinfo=NY).timestamp()
    tl.add(t, 1)
    last = tl.last_year
    # 1000 business days (about four years) runs past the first build
    end = tl.add(t, 1000 * 9 * H)
    assert tl.last_year > last
    assert tl.between(t, end) == 1000 * 9 * H
    assert datetime.fromtimestamp(end, NY).year == 2030


def test_timeline_far_future_and_past():
    cal = make_calendar("TR", closed=[date(1900, 1, 1)])  # own cached timeline
    got = add_business_time(cal, datetime(2026, 11, 27, 16, 30, tzinfo=IST), timedelta(hours=1))
    assert got == datetime(2026, 11, 30, 8, 30, tzinfo=IST)
    # 2300-06-01 is a Friday
    far = add_business_time(cal, datetime(2300, 6, 1, 16, 30, tzinfo=IST), timedelta(hours=1))
    assert far == datetime(2300, 6, 4, 8, 30, tzinfo=IST)
    # still right after the growth
    again = add_business_time(cal, datetime(2026, 11, 27, 16, 30, tzinfo=IST), timedelta(hours=1))
    assert again == got
    assert business_time_between(
        cal, datetime(2300, 6, 1, 16, 30, tzinfo=IST), datetime(2300, 6, 4, 8, 30, tzinfo=IST)
    ) == timedelta(hours=1)


def test_timeline_refuses_an_absurd_span():
    cal = make_calendar("TR", closed=[date(1900, 1, 2)])
    tl = Timeline(cal)
    tl.add(datetime(2026, 1, 5, 9, tzinfo=IST).timestamp(), 60)
    with pytest.raises(CalendarError, match="too far"):
        tl.add(datetime(2600, 1, 5, 9, tzinfo=IST).timestamp(), 60)


def test_timeline_cumulative_arrays_are_consistent():
    tl = Timeline(make_calendar("ME"))
    tl.ensure(datetime(2026, 6, 1, tzinfo=DXB).timestamp())
    assert tl.cum[0] == 0
    for i in range(1, len(tl.starts)):
        assert tl.ends[i - 1] < tl.starts[i] < tl.ends[i]
        assert tl.cum[i] == tl.cum_end[i - 1]
        assert tl.cum_end[i] - tl.cum[i] == tl.ends[i] - tl.starts[i]


def test_timeline_is_open_and_next_open():
    tl = Timeline(make_calendar("TR"))
    fri_close = datetime(2026, 11, 27, 17, tzinfo=IST).timestamp()
    mon_open = datetime(2026, 11, 30, 8, tzinfo=IST).timestamp()
    assert not tl.is_open(fri_close)  # [open, close)
    assert tl.is_open(fri_close - 1)
    assert tl.next_open(fri_close) == mon_open
    assert tl.is_open(mon_open)
    assert tl.next_open(mon_open) == mon_open


def test_calendar_value_semantics_survive_the_timeline_cache():
    import copy
    import dataclasses
    import pickle

    cal = make_calendar("TR")
    tl = cal.timeline()
    again = pickle.loads(pickle.dumps(cal))
    assert again == cal and hash(again) == hash(cal)
    assert again.timeline() is tl  # equal calendars share one timeline
    assert copy.deepcopy(cal) == cal
    assert "timeline" not in repr(cal)
    assert list(dataclasses.asdict(cal)) == [
        "name", "tz", "days", "hours", "holiday_sets", "half_day_sets", "half_day_close",
        "closed_dates",
    ]
    other = dataclasses.replace(cal, tz="Europe/Berlin")
    assert other.timeline() is not tl and other.timeline().zone == ZoneInfo("Europe/Berlin")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cal.tz = "UTC"  # type: ignore[misc]


def test_an_absurd_target_fails_fast():
    import time as _time

    cal = make_calendar("US", closed=[date(1900, 1, 5)])
    t0 = _time.perf_counter()
    with pytest.raises(CalendarError, match="too far"):
        add_business_time(cal, datetime(2026, 11, 30, 9, tzinfo=NY), timedelta(days=10**6))
    assert _time.perf_counter() - t0 < 5
    # the calendar still works afterwards
    got = add_business_time(cal, datetime(2026, 11, 30, 9, tzinfo=NY), timedelta(hours=1))
    assert got == datetime(2026, 11, 30, 10, tzinfo=NY)


def test_a_far_pause_end_grows_the_timeline():
    cal = make_calendar("TR", closed=[date(1900, 1, 6)])
    start = datetime(2026, 11, 27, 16, tzinfo=IST)
    pauses = [(datetime(2026, 11, 27, 16, 30, tzinfo=IST), datetime(2036, 6, 2, 9, tzinfo=IST))]
    got = add_business_time(cal, start, timedelta(hours=1), pauses)
    # 30 min on Fri, then from Mon 2036-06-02 09:00 (a Monday) + 30 min
    assert got == datetime(2036, 6, 2, 9, 30, tzinfo=IST)
