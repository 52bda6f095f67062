"""Errors the core raises, each carrying a sentence a person can act on (never a traceback)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


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
    """A value that is not one of a known set (topic, region, time zone): offer the choices.

    `choices` come closest first (ties alphabetical: the caller ranks them). The hint starts
    with "Did you mean <closest>?" unless the caller's own hint already asks, or `suggest` is
    False (an ambiguous word, where no choice is closer than another). The full list is not
    repeated in the hint: it is `choices`, rendered once by whoever shows the error (an error
    card offers them as choices), under `heading` ("Closest topics"). `labels` gives a readable
    name for a value where it has one ("GB" -> "United Kingdom").
    """

    def __init__(
        self,
        what: str,
        given: str,
        choices: Sequence[str],
        hint: str = "",
        *,
        problem: str | None = None,
        labels: Mapping[str, str] | None = None,
        kind: str | None = None,
        suggest: bool = True,
    ) -> None:
        self.what = what
        self.given = given
        self.choices = tuple(choices)
        self.labels: dict[str, str] = dict(labels or {})
        self.advice = hint
        self.heading = f"Closest {kind or _plural(what.lower())}"
        asks = "did you mean" in hint.lower()
        first = f"Did you mean {self.choices[0]}?" if suggest and self.choices and not asks else ""
        full_hint = " ".join(part for part in (first, hint) if part)
        super().__init__([problem or f"{what} '{given}' is not one I know."], full_hint)

    @classmethod
    def too_long(cls, what: str, given: str, limit: int, hint: str = "") -> UnknownChoice:
        """The refusal of an over-long name, raised before any fuzzy matching runs on it (a
        1 MB string would keep difflib busy for minutes)."""
        field = what.lower()
        shown = given if len(given) <= 40 else given[:40] + "…"
        return cls(
            what,
            shown,
            (),
            hint,
            problem=f"{field}: is {len(given)} characters; a {field} name is at most {limit}.",
        )

    def label(self, value: str) -> str:
        """The readable name of one of the choices (the value itself when there is none)."""
        return self.labels.get(value, value)

    def closest_line(self, limit: int = 8) -> str:
        """The choices as one labelled sentence, e.g. 'Closest topics: coming-out, crisis.'"""
        if not self.choices:
            return ""
        return f"{self.heading}: {', '.join(self.choices[:limit])}."

    def __str__(self) -> str:
        # Plain text (logs, the CLI): the problem, the hint, then the list once.
        return " ".join(part for part in (self.message, self.hint, self.closest_line()) if part)


def _plural(noun: str) -> str:
    return noun if noun.endswith("s") else f"{noun}s"


class StorageUnavailable(HavenError):
    """The database cannot be opened or written; the operator must act."""


class AlreadyExists(HavenError):
    """Adding an item whose key is taken; nothing was written."""


class StorageError(Exception):
    """A statement the database refused or could not run, whatever the engine underneath.

    The storage layer raises these instead of its driver's own errors, so callers outside
    `bot/storage` (the scheduler, the readiness probe, the CLI) never name an engine. The class
    names follow the Python database API's, which is what an operator sees in a log line."""


class IntegrityError(StorageError):
    """A constraint refused the change (a duplicate key, a missing referenced row)."""


class OperationalError(StorageError):
    """The database could not run the statement (busy, gone, unreadable, full)."""


class MayHavePosted(HavenError):
    """A public post failed in a way that may still have posted it: never a blind retry."""
