"""A throwaway PostgreSQL server for tests (PostgreSQL 15 binaries from the machine image).

``DESTEK_TEST_PG_URL`` points at an existing server instead. Without binaries and without that
variable, PostgreSQL tests fail loudly unless ``DESTEK_SKIP_PG=1`` (local convenience only).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _bin(name: str) -> str | None:
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        p = Path(d) / name
        if p.exists():
            return str(p)
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self) -> None:
        # On tmpfs where there is one: a throwaway server needs no disk, and the suite spent
        # half its PostgreSQL time waiting on writes (CREATE DATABASE ... TEMPLATE per test).
        shm = Path("/dev/shm")
        fast = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
        self.dir = Path(tempfile.mkdtemp(prefix="destek-pg-", dir=fast))
        self.port = _free_port()
        self.url = f"postgresql+psycopg://destek@127.0.0.1:{self.port}/postgres"
        self._as_postgres = os.geteuid() == 0

    def _run(self, args: list[str]) -> None:
        if self._as_postgres:
            cmd = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(args)]
        else:
            cmd = args
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> str:
        initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise RuntimeError("PostgreSQL binaries (initdb, pg_ctl) not found")
        if self._as_postgres:
            shutil.chown(self.dir, "postgres")
        data = self.dir / "data"
        self._run([initdb, "-D", str(data), "-A", "trust", "-U", "destek", "-E", "UTF8"])
        opts = f"-k {self.dir} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off " \
               "-c synchronous_commit=off -c full_page_writes=off"
        self._run([pg_ctl, "-D", str(data), "-o", f"'{opts}'", "-l", str(self.dir / "log"),
                   "-w", "start"])
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return self.url
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("PostgreSQL did not start")

    def stop(self) -> None:
        pg_ctl = _bin("pg_ctl")
        if pg_ctl:
            try:
                self._run([pg_ctl, "-D", str(self.dir / "data"), "-m", "immediate", "stop"])
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


# -- the database a test run uses -----------------------------------------------------------
# DESTEK_TEST_DB chooses the store behind every database fixture and ``database_url()``:
# "sqlite" or "postgresql"; unset, the ``db_url`` tests run on both and the rest on SQLite.
# `make test` runs the suite once per store.

TEST_DB = os.environ.get("DESTEK_TEST_DB", "").strip().lower()
if TEST_DB not in ("", "sqlite", "postgresql"):
    raise RuntimeError(f"DESTEK_TEST_DB must be sqlite or postgresql, not {TEST_DB!r}")

_shared: PostgresServer | None = None
_shared_url: str | None = None
_by_path: dict[str, str] = {}


def shared_server_url() -> str:
    """The session's PostgreSQL server (DESTEK_TEST_PG_URL, else one started on first use)."""
    global _shared, _shared_url
    if _shared_url is None:
        given = os.environ.get("DESTEK_TEST_PG_URL")
        if given:
            _shared_url = given
        else:
            import atexit

            _shared = PostgresServer()
            _shared_url = _shared.start()
            atexit.register(stop_shared_server)
    return _shared_url


def stop_shared_server() -> None:
    global _shared, _shared_url
    if _shared is not None:
        _shared.stop()
    _shared, _shared_url = None, None


def fresh_pg_database(server_url: str, template: str | None = None) -> str:
    """CREATE DATABASE t_<random> (a copy of ``template`` when given); returns its URL."""
    import uuid

    from sqlalchemy import text

    from storage.db import make_engine

    name = "t_" + uuid.uuid4().hex[:12]
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=_null_pool())
    try:
        with admin.connect() as conn:
            extra = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{extra}'))
    finally:
        admin.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name


def _null_pool():  # type: ignore[no-untyped-def]
    from sqlalchemy.pool import NullPool

    return NullPool


def database_url(path: Path | str) -> str:
    """An EMPTY database for a test that builds its own URL from a file path.

    ``sqlite:///<path>`` normally; under DESTEK_TEST_DB=postgresql a fresh PostgreSQL database,
    the same one for the same path during the session (a test may ask twice, or hand the path
    to a subprocess helper that asks again).
    """
    key = str(path)
    if TEST_DB != "postgresql":
        return f"sqlite:///{key}"
    if key not in _by_path:
        _by_path[key] = fresh_pg_database(shared_server_url())
    return _by_path[key]
