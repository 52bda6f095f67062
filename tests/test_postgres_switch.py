"""Where no PostgreSQL is installed its tests skip and say why; with HAVEN_REQUIRE_POSTGRES=1
(what .ci/run sets) the same run fails instead. Run as a separate pytest, with the server's
programs hidden (HAVEN_PG_BINDIR naming a folder without them), both in one process and under
pytest-xdist (as the README and .ci/run run the suite: each worker starts its own server)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


# One process, or two xdist workers (each would start its own server and cannot).
RUNNERS = {"one-process": ["-n", "0"], "xdist": ["-n", "2"]}


def run_schema_tests(
    tmp_path: Path, runner: list[str], **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
    environment.update(HAVEN_PG_BINDIR=str(tmp_path / "no-postgres"), **env)
    pytest_args = ["-q", "-rs", "-p", "no:cacheprovider", *runner, "tests/storage/test_schema.py"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args, "-k", "postgresql"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("runner", list(RUNNERS))
@pytest.mark.parametrize("required", [False, True])
def test_no_postgres_skips_with_the_reason_unless_required(
    tmp_path: Path, required: bool, runner: str
) -> None:
    done = run_schema_tests(
        tmp_path, RUNNERS[runner], **({"HAVEN_REQUIRE_POSTGRES": "1"} if required else {})
    )
    if required:
        assert done.returncode != 0, done.stdout
        assert "HAVEN_REQUIRE_POSTGRES is set but PostgreSQL cannot run" in done.stdout
        assert "skipped" not in done.stdout.splitlines()[-1]
    else:
        assert done.returncode == 0, done.stdout + done.stderr
        assert "PostgreSQL tests skipped: PostgreSQL is not installed here" in done.stdout
        assert "2 skipped" in done.stdout.splitlines()[-1]
