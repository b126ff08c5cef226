"""Loaded only by `make test-dates` (PYTHONPATH), in processes run under libfaketime.

libfaketime 0.9.10 (Debian 12) with FAKETIME_DONT_FAKE_MONOTONIC=1 turns every
`clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, ...)` into EINVAL, which is how CPython's
`time.sleep` sleeps; without that variable, timed waits on locks and events never return. So the
moved-clock runs keep monotonic time real and sleep through `select`, whose relative timeout
libfaketime leaves alone. Nothing of the product is changed: only how this process sleeps.
"""

from __future__ import annotations

import select
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    select.select([], [], [], seconds)


time.sleep = _sleep
