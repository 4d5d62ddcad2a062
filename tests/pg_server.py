"""A real PostgreSQL server on loopback for the store tests.

Uses ``SWITCHBOARD_TEST_PG_URL`` when it is set and reachable; otherwise initialises a
throw-away cluster with Debian's ``initdb`` in a temporary folder, starts it on a free
port bound to 127.0.0.1, and stops it at the end of the session. Each test gets a fresh
database.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass

import psycopg


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if not path:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")
    return path


@dataclass
class PgServer:
    admin_url: str
    data_dir: str | None = None
    run_as: str | None = None

    def new_database(self) -> str:
        """Create an empty database; returns its SQLAlchemy URL."""
        name = f"sb_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base = self.admin_url.rsplit("/", 1)[0]
        return f"{base.replace('postgresql://', 'postgresql+psycopg://')}/{name}"

    def stop(self) -> None:
        if self.data_dir:
            self._run([_bin("pg_ctl"), "-D", self.data_dir, "-m", "immediate", "stop"])
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def _run(self, cmd: list[str]) -> None:
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)


def start() -> PgServer:
    given = os.environ.get("SWITCHBOARD_TEST_PG_URL")
    if given:
        with psycopg.connect(given, connect_timeout=3):
            return PgServer(admin_url=given)
    run_as = None
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root.
        run_as = "postgres"
        try:
            pwd.getpwnam(run_as)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", run_as], check=True)
    data_dir = tempfile.mkdtemp(prefix="switchboard-pg-")
    if run_as:
        shutil.chown(data_dir, user=run_as)
    port = _free_port()
    server = PgServer(
        admin_url=f"postgresql://postgres@127.0.0.1:{port}/postgres",
        data_dir=data_dir,
        run_as=run_as,
    )
    server._run(
        [
            _bin("initdb"),
            "-D",
            data_dir,
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]
    )
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -k {data_dir} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    server._run(
        [
            _bin("pg_ctl"),
            "-D",
            data_dir,
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "-l",
            f"{data_dir}/server.log",
            "start",
        ]
    )
    return server
