"""Small asyncio helpers shared by the long-running services."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel a service's background task and wait until it has really stopped."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


def freeze_startup_heap() -> None:
    """Keep what start-up built (modules, mappers, the compiled policy, ...) out of the
    garbage collector's full passes (``gc.freeze``): under load a full pass over it stopped
    the whole server for 90-160 ms, every request in flight with it (benchmarks/bench_load.py,
    DESTEK_LOAD_TRACE=1). Called where a server process starts serving, not in tests."""
    import gc

    gc.collect()
    gc.freeze()


class ServiceThreads:
    """The threads a service runs its database passes on, so ``stop()`` can end them.

    ``asyncio.to_thread`` hands work to the loop's shared executor: cancelling the awaiting
    task leaves the thread running, and the loop's close then waits on it with no limit (the
    teardown hang of the suite). Here a cancelled await also cancels work not yet started, and
    ``close`` waits, bounded, for what is still running: every pass is finite.
    """

    def __init__(self, name: str, workers: int = 2) -> None:
        self.name, self.workers = name, workers
        self._pool: ThreadPoolExecutor | None = None
        self._running: set[Future[Any]] = set()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on one of the service's threads and await its result."""
        if self._pool is None:  # first use, or used again after close (a restart)
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix=self.name)
        future = self._pool.submit(contextvars.copy_context().run, fn, *args)
        self._running.add(future)
        future.add_done_callback(self._running.discard)
        return await asyncio.wrap_future(future)

    async def close(self, timeout: float = 60.0) -> None:
        """Refuse new work, drop queued work, and wait for the passes already running."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        pool.shutdown(wait=False, cancel_futures=True)
        running = [asyncio.wrap_future(f) for f in list(self._running) if not f.done()]
        if running:
            _done, late = await asyncio.wait(running, timeout=timeout)
            if late:
                log.error("%d database pass(es) still running after %.0f s", len(late), timeout)
                return
        pool.shutdown(wait=True)  # idle threads only now: they exit at once
