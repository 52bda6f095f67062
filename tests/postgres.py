"""A throwaway PostgreSQL server for the tests: started once per run, in a temporary folder.

`initdb` and `pg_ctl` refuse to run as root, and CI runs as root, so as root they run as the
`postgres` user (runuser) in a folder that user owns. The server listens on 127.0.0.1 on a
free port, with its Unix socket in the same folder (never the system's /var/run/postgresql),
trusts local connections (nothing else can reach it) and skips fsync: it is thrown away
after the run. Where no PostgreSQL is installed the tests that need it skip with that reason;
HAVEN_REQUIRE_POSTGRES=1 (set by .ci/run) turns the skip into a failure.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRE_ENV = "HAVEN_REQUIRE_POSTGRES"
USER = "haven"


def required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in ("1", "yes", "true")


def find_bindir() -> Path | None:
    """PostgreSQL's server programs: HAVEN_PG_BINDIR alone when set, else Debian's versioned
    folders (newest first), else initdb on PATH."""
    given = os.environ.get("HAVEN_PG_BINDIR")
    if given:
        candidates = [given]
    else:
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
        found = shutil.which("initdb")
        if found:
            candidates.append(str(Path(found).parent))
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").is_file():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    bindir: Path
    base: Path
    port: int
    runner: list[str]

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    def url(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        pg_ctl = str(self.bindir / "pg_ctl")
        subprocess.run(
            [*self.runner, pg_ctl, "-D", str(self.data_dir), "-m", "fast", "-w", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.base, ignore_errors=True)


def start_server() -> PostgresServer:
    """Start a new cluster; raises RuntimeError with the reason when it cannot."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError(
            "PostgreSQL is not installed here (no initdb under /usr/lib/postgresql/*/bin or on "
            "PATH; set HAVEN_PG_BINDIR)"
        )
    base = Path(tempfile.mkdtemp(prefix="haven-pg-"))
    runner: list[str] = []
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root and there is no postgres user") from None
        os.chown(base, owner.pw_uid, owner.pw_gid)
        runner = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    server = PostgresServer(bindir, base, port, runner)
    options = (
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
        " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    data, log = str(server.data_dir), str(base / "server.log")
    steps = [
        [
            str(bindir / "initdb"),
            "-D",
            data,
            "-U",
            USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
        [str(bindir / "pg_ctl"), "-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start"],
    ]
    for step in steps:
        done = subprocess.run([*runner, *step], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = (base / "server.log").read_text() if (base / "server.log").exists() else ""
            server.stop()
            raise RuntimeError(
                f"{Path(step[0]).name} failed ({done.returncode}): {done.stderr.strip()} {log}"
            )
    return server


def unavailable(reason: str) -> None:
    """Skip, or fail when CI requires PostgreSQL."""
    if required():
        pytest.fail(f"{REQUIRE_ENV} is set but PostgreSQL cannot run: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")
