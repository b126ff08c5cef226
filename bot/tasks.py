"""Small asyncio helpers shared by the long-running services."""

from __future__ import annotations

import asyncio
from typing import Any


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
