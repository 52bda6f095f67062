"""Input validation shared by every command and pack: each problem says what and how to fix it.

Limits are the strictest of Discord and Slack (Discord: embed description 4096 characters,
button label 80, link-button URL 512; Slack: section text 3000), with room to spare, so anything
accepted here renders on every platform.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from bot.core.errors import ValidationFailed

# Discord link buttons take at most 512 characters of URL; Slack takes 3000.
MAX_URL_LENGTH = 512
# A message must fit an embed description (4096) and a Slack section (3000) with the
# resources beside it; 1500 leaves room and is still several paragraphs.
MAX_MESSAGE_LENGTH = 1500
# Discord button labels are at most 80 characters; titles double as button labels.
MAX_TITLE_LENGTH = 80
MAX_DESCRIPTION_LENGTH = 300
MAX_HOURS_LENGTH = 200
MAX_CONTACT_LENGTH = 100
MAX_KEY_LENGTH = 64

# Bidirectional overrides and invisible characters let a title pose as something else.
_BIDI_AND_INVISIBLE = {
    *range(0x200B, 0x2010),  # zero-width space/joiners, LRM, RLM
    *range(0x202A, 0x202F),  # LRE, RLE, PDF, LRO, RLO
    *range(0x2066, 0x206A),  # LRI, RLI, FSI, PDI
    0xFEFF,  # zero-width no-break space
    0x2060,  # word joiner
}

_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_E164_RE = re.compile(r"^\+[1-9][0-9]{2,14}$")


def _bad_characters(value: str, *, allow_newlines: bool) -> list[str]:
    found: list[str] = []
    for char in value:
        code = ord(char)
        if char in "\n\t" and allow_newlines:
            continue
        if code in _BIDI_AND_INVISIBLE:
            found.append(f"U+{code:04X}")
        elif unicodedata.category(char) in ("Cc", "Cs", "Co"):
            found.append(f"U+{code:04X}")
    return found


def check_text(
    field: str,
    value: str,
    *,
    max_length: int,
    required: bool = True,
    allow_newlines: bool = False,
) -> list[str]:
    """Problems with a piece of text, as `field: ...` sentences (empty list when fine)."""
    problems: list[str] = []
    stripped = value.strip()
    if required and not stripped:
        problems.append(f"{field}: must not be empty.")
        return problems
    if len(stripped) > max_length:
        problems.append(
            f"{field}: is {len(stripped)} characters; the limit is {max_length} "
            f"(shorten it by {len(stripped) - max_length})."
        )
    bad = _bad_characters(stripped, allow_newlines=allow_newlines)
    if bad:
        shown = ", ".join(sorted(set(bad))[:5])
        problems.append(
            f"{field}: contains control or invisible direction characters ({shown}); "
            "retype it without them."
        )
    return problems


def clean_text(
    field: str, value: str, *, max_length: int, required: bool = True, allow_newlines: bool = False
) -> str:
    """The text stripped of surrounding whitespace, or ValidationFailed."""
    problems = check_text(
        field, value, max_length=max_length, required=required, allow_newlines=allow_newlines
    )
    if problems:
        raise ValidationFailed(problems)
    return value.strip()


def check_url(field: str, value: str) -> list[str]:
    """Problems with a resource link: https only, a host, no user-info, no spaces, ≤512."""
    url = value.strip()
    if not url:
        return [f"{field}: must not be empty; give the service's https:// address."]
    if len(url) > MAX_URL_LENGTH:
        return [f"{field}: is {len(url)} characters; links can be at most {MAX_URL_LENGTH}."]
    if any(ch.isspace() for ch in url) or _bad_characters(url, allow_newlines=False):
        return [f"{field}: must not contain spaces or control characters."]
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a malformed port
    except ValueError:
        return [f"{field}: is not a valid link; it should look like https://example.org/page."]
    del port
    if parts.scheme.lower() != "https":
        scheme = parts.scheme or "none"
        return [
            f"{field}: must start with https:// (it uses {scheme}:); "
            "only secure web links are allowed."
        ]
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return [
            f"{field}: must not contain a user name before the host (the part before '@' "
            "can disguise where a link goes)."
        ]
    if not parts.hostname or "." not in parts.hostname:
        return [f"{field}: needs a host name, like https://example.org."]
    return []


def clean_url(field: str, value: str) -> str:
    problems = check_url(field, value)
    if problems:
        raise ValidationFailed(problems)
    return value.strip()


def display_domain(url: str) -> str:
    """The host of a link as shown beside it: punycode for non-ASCII hosts, no `www.`."""
    host = (urlsplit(url).hostname or "").lower()
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    return host.removeprefix("www.")


def check_key(field: str, value: str) -> list[str]:
    if not _KEY_RE.match(value) or len(value) > MAX_KEY_LENGTH:
        return [
            f"{field}: '{value}' must be lowercase letters, digits and dashes, starting with "
            f"a letter or digit, at most {MAX_KEY_LENGTH} characters (e.g. gb-samaritans)."
        ]
    return []


def check_e164(field: str, value: str) -> list[str]:
    if not _E164_RE.match(value):
        return [f"{field}: '{value}' is not in E.164 form; write it like +448000119100."]
    return []


# Mentions that would ping people if a platform parsed them. Adapters also send with
# mentions disabled (Discord AllowedMentions.none(), Slack escaping): this is the first layer.
_MENTION_PATTERNS = (
    (re.compile(r"@(everyone|here|channel)", re.IGNORECASE), "@\u2060\\1"),
    (re.compile(r"<(@[!&]?|#|!)"), "<\u2060\\1"),
)


def make_mentions_inert(text: str) -> str:
    """Break `@everyone`, `@here`, `<@&role>`, `<@user>`, `<#channel>`, `<!channel>` with a
    word joiner so no platform turns them into pings, while they still read the same."""
    for pattern, replacement in _MENTION_PATTERNS:
        text = pattern.sub(replacement, text)
    return text
