"""A real, throwaway PostgreSQL cluster for the test suite's PostgreSQL pass.

``pytest --postgres`` runs the whole suite with every test database on
PostgreSQL instead of SQLite. The cluster is made with the server's own
``initdb`` in a temporary folder, listens on a spare port of 127.0.0.1 only,
trusts local connections, and is removed at the end. Each test gets a database
of its own, cloned from a template that the migrations brought from empty to
head once (tests of the migrations themselves get an empty one).
"""

from __future__ import annotations

import asyncio
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import threading
import time
from pathlib import Path

from tests.synapse import free_port

TEMPLATE = "mentorbot_template"
_counter = itertools.count(1)


def server_bin() -> Path:
    """Where PostgreSQL's server programs are (Debian keeps them out of PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (or run .ci/run, which does)")


class Postgres:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.data = workdir / "data"
        self.port = free_port()
        self.user: str | None = None  # the system user the server runs as, when we are root
        self._lock = threading.Lock()
        self._template_ready = False
        self._made: dict[tuple[str, bool], str] = {}  # the same folder gets the same database

    @property
    def admin_url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}"

    def _run(self, *args: str, **kw) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)

    def start(self) -> None:
        bindir = server_bin()
        self.workdir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:  # the server refuses to run as root
            self.user = "postgres"
            pwd.getpwnam(self.user)
            shutil.chown(self.workdir, self.user)
        self._run(str(bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--no-sync")
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.workdir} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300")
        self._run(str(bindir / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.workdir / "log"),
                  "-w", "start")

    def stop(self) -> None:
        try:
            self._run(str(server_bin() / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.workdir, ignore_errors=True)

    def database(self, key: str, *, empty: bool = False) -> str:
        """The URL of the database for ``key`` (a test's folder), made on first use:
        migrated to head (cloned from the template), or empty."""
        with self._lock:
            if (key, empty) in self._made:
                return self._made[(key, empty)]
            name = f"test_{os.getpid()}_{next(_counter)}"
            if not empty and not self._template_ready:
                _in_thread(self._make_template())
                self._template_ready = True
            template = "template0" if empty else TEMPLATE
            _in_thread(self._execute(f'CREATE DATABASE "{name}" TEMPLATE {template}'))
            self._made[(key, empty)] = f"{self.admin_url}/{name}"
            return self._made[(key, empty)]

    async def _execute(self, sql: str) -> None:
        import asyncpg

        for attempt in range(50):
            conn = await asyncpg.connect(host="127.0.0.1", port=self.port, user="postgres", database="postgres")
            try:
                await conn.execute(sql)
                return
            except asyncpg.ObjectInUseError:  # the template is still being read by another clone
                await asyncio.sleep(0.05)
            finally:
                await conn.close()
        raise RuntimeError(f"could not run {sql!r}")

    async def _make_template(self) -> None:
        from storage.db import Database

        await self._execute(f"CREATE DATABASE {TEMPLATE}")
        db = Database(f"{self.admin_url}/{TEMPLATE}")
        try:
            await db.upgrade()
        finally:
            await db.close()


def _in_thread(coro) -> None:
    """Run a coroutine to the end from sync code, even inside a running event loop."""
    box: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - handed back below
            box.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if box:
        raise box[0]


ACTIVE: Postgres | None = None  # set by conftest for the PostgreSQL pass


def wait_ready(pg: Postgres, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _in_thread(pg._execute("SELECT 1"))
            return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.2)
    raise RuntimeError("PostgreSQL did not start")
