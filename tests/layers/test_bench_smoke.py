"""bench/layers_size.py --quick runs and finds the layers database smaller (a smoke test: the
real measure is the 1,000-community run, printed by hand)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_layers_size_bench_quick() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "layers_size.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    ratio = re.search(r"layers are ([\d.]+)x smaller", done.stdout)
    assert ratio is not None, done.stdout
    assert float(ratio.group(1)) > 5
