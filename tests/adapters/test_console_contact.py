"""The contact line in `haven console`: through `run_console` itself (the key read back from
what was printed, as a person would copy it), and as a real `haven console` process."""

from __future__ import annotations

import re
import stat
from collections.abc import Callable
from pathlib import Path

from bot.adapters.console import run_console
from bot.app import open_services
from bot.settings import Settings
from tests.e2e.test_console import run_console as run_console_process


class Script:
    """A stdin whose next line may depend on what the console printed so far."""

    def __init__(self, written: list[str], steps: list[str | Callable[[str], str]]) -> None:
        self._written = written
        self._steps = steps

    def readline(self) -> str:
        if not self._steps:
            return ""
        step = self._steps.pop(0)
        line = step if isinstance(step, str) else step("".join(self._written))
        return line + "\n"

    def isatty(self) -> bool:
        return False


def _key(output: str) -> str:
    found = re.findall(r"Your key: (\S+)", output)
    assert found, output
    return found[-1]


async def test_the_whole_flow_in_a_console_session(tmp_path: Path) -> None:
    written: list[str] = []
    steps: list[str | Callable[[str], str]] = [
        "/support-admin settings contact-inbox channel:#mod-inbox",
        "/support-contact anonymous Someone keeps messaging me",
        "/support-admin contact reply 1 We hear you. Who is it?",
        lambda out: f"/support-contact answer {_key(out)} A member called X",
        lambda out: f"/support-contact open {_key(out)}",
        "/support-admin contact close 1",
        lambda out: f"/support-contact delete {_key(out)}",
        lambda out: f"/support-contact erase {_key(out)}",
    ]
    async with open_services(Settings(database_path=tmp_path / "haven.db")) as services:
        await run_console(
            services, stdin=Script(written, steps), write=written.append, interactive=False
        )  # type: ignore[arg-type]
    out = "".join(written)
    assert "✔ Moderator inbox saved" in out
    assert "── Moderator inbox #mod-inbox " in out and "Request #1" in out
    assert "Anonymous: nobody, Haven included, can tell who sent this." in out
    assert "── Only you see this: keep the key" in out
    assert "[Read replies] run: /support-contact open " in out
    assert "── Private message to you " in out and "We hear you. Who is it?" in out
    assert "Sender: A member called X" in out  # the inbox redrawn with the answer
    assert "You: A member called X" in out  # the person's own view
    assert "Request #1 closed" in out
    assert "Delete request #1 for good?" in out
    assert "Request #1 deleted" in out and "Deleted by the sender" in out
    # The key file beside the database is the person's block key, readable by its owner only.
    key_file = tmp_path / "haven.db.contact-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_haven_console_sends_a_request(tmp_path: Path) -> None:
    result = run_console_process(
        tmp_path,
        "/support-admin settings contact-inbox #mods\n"
        "/support-contact myself Please look at the #general thread\n"
        "/support coming-out GB\n",
    )
    assert result.returncode == 0, result.stderr
    assert "Request #1" in result.stdout and "Your key:" in result.stdout
    assert "[Talk to a moderator] run: /support-contact" in result.stdout
    assert result.stderr == ""
