"""A circuit breaker per endpoint: after repeated failures the hook stops calling for a while."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

BREAKER_THRESHOLD = 3  # consecutive failures that open the circuit
BREAKER_COOLDOWN = 60.0  # seconds before one trial call is let through


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; one trial call after ``cooldown``."""

    def __init__(self, threshold: int = BREAKER_THRESHOLD, cooldown: float = BREAKER_COOLDOWN,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold, self.cooldown, self.clock = threshold, cooldown, clock
        self._failures: dict[str, int] = {}
        self._opened: dict[str, float] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        with self._lock:
            opened = self._opened.get(key)
            if opened is None:
                return True
            if self.clock() - opened >= self.cooldown:
                self._opened[key] = self.clock()  # half-open: this one call tries
                return True
            return False

    def success(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
            self._opened.pop(key, None)

    def failure(self, key: str) -> None:
        with self._lock:
            n = self._failures.get(key, 0) + 1
            self._failures[key] = n
            if n >= self.threshold:
                self._opened[key] = self.clock()

    def is_open(self, key: str) -> bool:
        with self._lock:
            return key in self._opened


BREAKER = CircuitBreaker()
