"""Public holidays and half days per country, from the ``holidays`` package (cached per year)."""

from __future__ import annotations

import functools
from datetime import date

import holidays as holidays_lib

from .hours import CalendarError

__all__ = ["country_days"]


@functools.lru_cache(maxsize=1024)
def country_days(country: str, category: str, year: int) -> dict[date, str]:
    """Named days of one ``holidays`` category (``public``, ``half_day``) of a country's year."""
    try:
        got = holidays_lib.country_holidays(
            country, years=year, categories=(category,), language="en_US"
        )
    except NotImplementedError:
        raise CalendarError(f"no holiday data for country {country!r}") from None
    return dict(got.items())
