"""The scale and memory benchmarks run (`--quick`, seconds) and print every figure they promise,
each beside its baseline."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import HEAVY
from tests.postgres import find_bindir, unavailable

pytestmark = HEAVY

ROOT = Path(__file__).resolve().parents[1]
NUMBER = r"[0-9]+(?:\.[0-9]+)?"
SCALE_FIGURES = (
    "database size per community",
    "database size per schedule",
    "start-up to ready",
    "leader takeover after the lease expired",
    "due-slot claim",
    "due-time query",
)


def _run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _check_scale(output: str, engine: str) -> None:
    section = output.split(f"== {engine}:", 1)
    assert len(section) == 2, output
    for figure in SCALE_FIGURES:
        # The figure at size, its baseline from the same run, and their ratio.
        line = re.search(
            rf"^{re.escape(figure)}.*?({NUMBER}) (?:bytes|ms)\s+({NUMBER}) (?:bytes|ms)\s+"
            rf"({NUMBER})x$",
            section[1],
            re.MULTILINE,
        )
        assert line, f"{engine}: no '{figure}' line in\n{output}"
        if figure.startswith("database size"):
            assert float(line[1]) > 0 and float(line[2]) > 0
    assert "1,000 communities, 10,000 schedules" in section[1]
    assert "baseline 100 / 1,000" in section[1]


def test_the_scale_benchmark_prints_every_figure_on_sqlite() -> None:
    _check_scale(_run("bench/scale.py", "--quick", "--engine", "sqlite", "--runs", "1"), "sqlite")


def test_the_scale_benchmark_prints_every_figure_on_postgresql() -> None:
    if find_bindir() is None:
        unavailable("PostgreSQL is not installed here (bench/scale.py starts its own server)")
    output = _run("bench/scale.py", "--quick", "--engine", "postgresql", "--runs", "1")
    _check_scale(output, "postgresql")


def test_the_scale_benchmark_refuses_a_size_too_small_to_measure() -> None:
    done = subprocess.run(
        [sys.executable, "bench/scale.py", "--communities", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "at least 10 communities" in done.stderr


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_the_memory_benchmark_prints_both_growths_and_their_ratio() -> None:
    output = _run("bench/memory.py", "--quick")
    for client in ("haven", "bare"):
        line = re.search(
            rf"^{client} .*\b200 servers\s+{NUMBER} MiB \| /support in each\s+{NUMBER} MiB"
            rf" \| growth [+-]{NUMBER} MiB per 1,000",
            output,
            re.MULTILINE,
        )
        assert line, f"no {client} line in\n{output}"
    assert re.search(
        rf"Haven [+-]{NUMBER} MiB, bare AutoShardedBot [+-]{NUMBER} MiB, ratio {NUMBER}", output
    ), output
    assert re.search(rf"last step only: Haven [+-]{NUMBER} MiB, bare [+-]{NUMBER} MiB", output)
    assert re.search(
        rf"/support once in every server: Haven [+-]{NUMBER} MiB, bare [+-]{NUMBER} MiB", output
    )


def test_the_memory_benchmark_refuses_steps_it_cannot_measure() -> None:
    done = subprocess.run(
        [sys.executable, "bench/memory.py", "--steps", "1000,2000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "the first 0" in done.stderr


def test_the_scale_benchmark_says_plainly_when_postgresql_cannot_start() -> None:
    done = subprocess.run(
        [sys.executable, "bench/scale.py", "--quick", "--engine", "postgresql"],
        cwd=ROOT,
        env={**os.environ, "HAVEN_PG_BINDIR": str(ROOT / "no-such-folder")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "cannot start a PostgreSQL server here" in done.stderr
    assert "--engine sqlite" in done.stderr
    assert "Traceback" not in done.stderr
