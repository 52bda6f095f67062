"""Comments and docstrings send readers only to files in this repository.

Research notes that lived beside the repository (`../shared/reference/*.md`) are not part of it:
a citation of them is a dead end for anyone reading a clone. A comment states the rule it relies
on in a sentence, or links a file that is in the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("bot", "cogs", "config", "bench", "tests")
OUTSIDE_THE_REPOSITORY = re.compile(
    r"\.\./shared|shared/reference|shared/ARCHITECTURE"
    r"|reliability\.md|helplines\.md|scale-out\.md|testing-with-real-clients\.md",
    re.IGNORECASE,
)


def _text_files() -> list[Path]:
    files = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            if path.resolve() == Path(__file__).resolve():
                continue
            files.append(path)
    return files


def test_no_file_cites_a_path_outside_the_repository() -> None:
    found = []
    for path in _text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary files cite nothing
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE_THE_REPOSITORY.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "state the rule itself, or link a file in the repository:\n" + "\n".join(
        found
    )


def test_the_check_sees_the_shipped_files() -> None:
    scanned = {path.relative_to(ROOT).as_posix() for path in _text_files()}
    assert {"bot/core/support.py", "config/packs/default.yaml"} <= scanned
    assert OUTSIDE_THE_REPOSITORY.search("see ../shared/reference/reliability.md §7 row 35")
    assert OUTSIDE_THE_REPOSITORY.search("(helplines.md §0.2)")


def test_no_virtual_environment_or_env_file_is_tracked() -> None:
    # A committed `.venv` symlink once made `python3 -m venv .venv` (the README's first
    # command) fail in a fresh clone; .gitignore must match `.venv` as a file too.
    import subprocess

    listed = subprocess.run(
        ["git", "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    paths = [line.split("\t", 1)[1] for line in listed]
    assert not [p for p in paths if p.split("/")[0] in (".venv", "venv", ".env")]
    ignored = (ROOT / ".gitignore").read_text("utf-8").splitlines()
    assert ".venv" in ignored and ".env" in ignored
