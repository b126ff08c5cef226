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
        self.dir = Path(tempfile.mkdtemp(prefix="destek-pg-"))
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
        opts = f"-k {self.dir} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off"
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
