"""Serving the dashboard inside ``destek run``: uvicorn in the running loop, and its address."""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette

log = logging.getLogger("destek.dashboard")


def _server_class() -> Any:
    """A uvicorn ``Server`` class that leaves the process's signals alone."""
    import contextlib
    from collections.abc import Iterator

    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn without its own SIGINT/SIGTERM handlers: the runner owns the signals."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return Server


class DashboardService:
    """The dashboard inside ``destek run`` (uvicorn in the running loop)."""

    name = "dashboard"

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        import uvicorn

        _Server = _server_class()
        # proxy_headers off: the app itself believes X-Forwarded-* only from the proxies of
        # DESTEK_TRUSTED_PROXY (uvicorn would trust 127.0.0.1 by default).
        self.config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                                     lifespan="off", proxy_headers=False)
        self.server = _Server(self.config)
        self._task: Any = None

    async def start(self) -> None:
        import asyncio
        import socket

        # Bind here so a busy port is one logged error, not uvicorn's sys.exit in a task:
        # the channels and the SLA scheduler matter more than the dashboard.
        try:
            sock = socket.create_server((self.config.host, self.config.port))
        except OSError as exc:
            log.error("dashboard not started: cannot listen on %s:%s (%s)",
                      self.config.host, self.config.port, exc)
            return
        self._task = asyncio.create_task(self.server.serve(sockets=[sock]))
        log.info("dashboard on %s", dashboard_url(self.config.host, self.config.port))

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task


def dashboard_url(host: str, port: int) -> str:
    """The address to open in a browser (a wildcard host is shown as 127.0.0.1)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://{shown}:{port}/"
