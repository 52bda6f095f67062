"""Errors the core raises, each carrying a sentence a person can act on (never a traceback)."""

from __future__ import annotations

from collections.abc import Sequence


class HavenError(Exception):
    """Base class: `message` says what is wrong, `hint` how to fix it. Both are user-safe."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class NotFound(HavenError):
    pass


class PermissionDenied(HavenError):
    pass


class Conflict(HavenError):
    """The item changed since the caller read it; nothing was overwritten."""


class ValidationFailed(HavenError):
    """One or more fields are wrong; `problems` lists each as `field: what is wrong`."""

    def __init__(self, problems: Sequence[str], hint: str = "") -> None:
        self.problems = tuple(problems)
        message = self.problems[0] if len(self.problems) == 1 else "; ".join(self.problems)
        super().__init__(message, hint)


class UnknownChoice(ValidationFailed):
    """A value that is not one of a known set (topic, region, time zone): offer the choices."""

    def __init__(self, what: str, given: str, choices: Sequence[str], hint: str = "") -> None:
        self.what = what
        self.given = given
        self.choices = tuple(choices)
        shown = ", ".join(self.choices[:8])
        problem = f"{what} '{given}' is not one I know."
        super().__init__([problem], hint or (f"Try one of: {shown}." if shown else ""))


class StorageUnavailable(HavenError):
    """The database cannot be opened or written; the operator must act."""
