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
    *range(0x200B, 0x2010),  # zero-width space, non-joiner, joiner, LRM, RLM
    *range(0x202A, 0x202F),  # LRE, RLE, PDF, LRO, RLO
    *range(0x2066, 0x206A),  # LRI, RLI, FSI, PDI
    0x061C,  # Arabic letter mark
    0x180E,  # Mongolian vowel separator (invisible)
    0x2060,  # word joiner
    *range(0x2061, 0x2065),  # invisible function application, times, separator, plus
    *range(0x206A, 0x2070),  # deprecated shaping controls
    0xFEFF,  # zero-width no-break space (byte order mark)
}
_ZWNJ, _ZWJ = 0x200C, 0x200D
# What may sit between an emoji and a joiner: variation selectors, skin tones, the keycap.
_EMOJI_TRAILERS = {0xFE0E, 0xFE0F, 0x20E3, *range(0x1F3FB, 0x1F400)}
# Subdivision flags (🏴 + tag letters + cancel tag: Scotland, Wales, England).
_BLACK_FLAG, _TAGS, _CANCEL_TAG = 0x1F3F4, range(0xE0020, 0xE007F), 0xE007F
# Scripts where ZWJ/ZWNJ between letters are part of correct spelling (Persian می‌خواهم,
# Malayalam and Sinhala conjuncts): Arabic and the Indic blocks.
_JOINING_SCRIPTS = (range(0x0600, 0x0900), range(0x0900, 0x0E00), range(0xFB50, 0xFE00))
# Text decoded with errors="surrogateescape" carries lone surrogates; errors="replace" U+FFFD.
_REPLACEMENT_CHARACTER = "\ufffd"

_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_E164_RE = re.compile(r"^\+[1-9][0-9]{2,14}$")


def _is_emoji(char: str) -> bool:
    """An emoji or pictographic symbol: what a zero-width joiner may join.

    Symbols (category So, plus the arrows of 🙂‍↔️) and anything in the emoji blocks, including
    emoji newer than this Python's Unicode data. A joiner between two letters is never allowed.
    """
    code = ord(char)
    return (
        unicodedata.category(char) == "So" or 0x1F000 <= code <= 0x1FAFF or 0x2190 <= code <= 0x21FF
    )


def _joins_emoji(value: str, index: int) -> bool:
    """True when the joiner at `index` sits inside an emoji sequence: an emoji (with its
    variation selector or skin tone) before it and an emoji right after it (👨‍👩‍👧, 🏳️‍🌈)."""
    before = index - 1
    while before >= 0 and ord(value[before]) in _EMOJI_TRAILERS:
        before -= 1
    after = index + 1
    return (
        before >= 0 and after < len(value) and _is_emoji(value[before]) and _is_emoji(value[after])
    )


def _joins_script(value: str, index: int) -> bool:
    """True for a ZWJ/ZWNJ between two letters or marks of a script that spells with them."""
    if index == 0 or index + 1 >= len(value):
        return False

    def joining(char: str) -> bool:
        return unicodedata.category(char)[0] in "LM" and any(
            ord(char) in block for block in _JOINING_SCRIPTS
        )

    return joining(value[index - 1]) and joining(value[index + 1])


def _flag_tags(value: str) -> set[int]:
    """Positions of tag characters that belong to a subdivision flag (🏴󠁧󠁢󠁳󠁣󠁴󠁿)."""
    allowed: set[int] = set()
    for start, char in enumerate(value):
        if ord(char) != _BLACK_FLAG:
            continue
        end = start + 1
        while end < len(value) and ord(value[end]) in _TAGS:
            end += 1
        if end > start + 1 and end < len(value) and ord(value[end]) == _CANCEL_TAG:
            allowed.update(range(start + 1, end + 1))
    return allowed


def _not_utf8(value: str) -> bool:
    """True when the text carries the traces of bytes that were not valid UTF-8."""
    return _REPLACEMENT_CHARACTER in value or any(
        unicodedata.category(char) == "Cs" for char in value
    )


def _bad_characters(value: str, *, allow_newlines: bool) -> list[str]:
    """Control and invisible characters in `value`, each as 'U+202E RIGHT-TO-LEFT OVERRIDE'.

    Grapheme-aware where it matters: a zero-width joiner inside an emoji sequence (🏳️‍🌈,
    👨‍👩‍👧, 🏳️‍⚧️), variation selectors, skin tones, keycaps (#️⃣) and the tags of a
    subdivision flag are fine; the same characters anywhere else are not. Lone surrogates are
    left to _not_utf8, which says so in one sentence.
    """
    found: list[str] = []
    tags = _flag_tags(value) if any(ord(char) in _TAGS for char in value) else set()
    for index, char in enumerate(value):
        code = ord(char)
        if char in "\n\t" and allow_newlines:
            continue
        if code in (_ZWJ, _ZWNJ) and (
            (code == _ZWJ and _joins_emoji(value, index)) or _joins_script(value, index)
        ):
            continue
        stray_tag = (code in _TAGS or code == _CANCEL_TAG) and index not in tags
        if code in _BIDI_AND_INVISIBLE or unicodedata.category(char) in ("Cc", "Co") or stray_tag:
            name = unicodedata.name(char, "")
            found.append(f"U+{code:04X} {name}" if name else f"U+{code:04X}")
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
    if _not_utf8(stripped):
        problems.append(f"{field}: is not valid UTF-8 text; retype or paste it again.")
    bad = _bad_characters(stripped, allow_newlines=allow_newlines)
    if bad:
        shown = ", ".join(sorted(set(bad))[:5])
        joiner = any(item.startswith(f"U+{_ZWJ:04X}") for item in bad)
        problems.append(
            f"{field}: contains control or invisible direction characters ({shown}); "
            "retype it without them"
            + (" (a zero-width joiner is fine only inside an emoji, like 🏳️‍🌈)." if joiner else ".")
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
    if _not_utf8(url):
        return [f"{field}: is not valid UTF-8 text; retype or paste it again."]
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
