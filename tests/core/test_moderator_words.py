"""What new moderators typed, through the console/Slack text grammar and the real router.

Each test is one line a moderator wrote that Haven used to misread, and what they must get.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleFiles
from bot.core.cards import Card, CardTone
from bot.core.commands.packs import PackCommands
from bot.core.models import ItemKind
from tests.core.conftest import MEMBER, Stack


async def run(stack: Stack, line: str, files: ConsoleFiles | None = None) -> Card:
    return await stack.router.run_text(stack.ctx(), line, files)


def text_of(card: Card) -> str:
    return card.plain_text()


# ---- the words after the verb --------------------------------------------------------------


async def test_the_words_after_message_add_are_its_text(stack: Stack) -> None:
    card = await run(stack, "/support-admin message add You are loved")
    assert card.tone is CardTone.SUCCESS, text_of(card)
    assert card.body == "You are loved"


async def test_words_after_an_option_of_message_add_are_still_the_text(stack: Stack) -> None:
    card = await run(stack, "/support-admin message add topics:harassment You are loved")
    assert card.body == "You are loved"
    assert dict(card.fields)["Topics"] == "harassment"


async def test_edit_takes_the_key_then_the_new_words(stack: Stack) -> None:
    by_option = await run(stack, "/support-admin message edit key:coming-out-1 Take your time")
    assert by_option.body == "Take your time", text_of(by_option)
    by_position = await run(stack, "/support-admin message edit coming-out-1 No rush at all")
    assert by_position.body == "No rush at all", text_of(by_position)


async def test_options_typed_after_text_are_read_as_options(stack: Stack) -> None:
    card = await run(stack, "/support-admin message add text:You are loved topics:harassment")
    assert card.body == "You are loved"
    assert dict(card.fields)["Topics"] == "harassment"


async def test_a_name_colon_in_the_text_that_is_no_option_is_kept_and_said(stack: Stack) -> None:
    card = await run(stack, "/support-admin message add text:Remember note: you matter")
    assert card.body == "Remember note: you matter"
    assert "'note:' was kept as part of text:" in card.footer


# ---- quotes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "option", "value"),
    [
        (
            "/support-admin resource add title:Line url:https://example.org topics:crisis "
            "regions:GB phone:0800 999 5428",
            "phone",
            '"0800 999 5428"',
        ),
        (
            "/support-admin message add topics:harassment text:Hi locale:en extra words",
            "locale",
            '"en extra words"',
        ),
    ],
)
async def test_an_unquoted_value_with_spaces_gets_the_line_to_copy(
    stack: Stack, line: str, option: str, value: str
) -> None:
    before = await stack.support.library(stack.ctx().community_id)
    card = await run(stack, line)
    assert card.tone is CardTone.ERROR
    assert card.body.startswith(f"{option}: a value with spaces needs quotes")
    corrected = card.footer.split("\n")[-1]
    assert f"{option}:{value}" in corrected
    # The corrected line works as it is.
    assert (await run(stack, corrected)).tone is CardTone.SUCCESS
    after = await stack.support.library(stack.ctx().community_id)
    assert len(after.messages) + len(after.resources) == (
        len(before.messages) + len(before.resources) + 1
    )


@pytest.mark.parametrize(
    "title",
    ["“Quoted line”", "‘Quoted line’", "'Quoted line'", '"Quoted line"', "„Quoted line“"],
)
async def test_curly_and_single_quotes_work_like_double_quotes(stack: Stack, title: str) -> None:
    card = await run(
        stack,
        f"/support-admin resource add title:{title} url:https://example.org/q "
        "topics:crisis regions:GB",
    )
    assert dict(card.fields)["Title"] == "Quoted line", text_of(card)


async def test_an_apostrophe_inside_a_word_is_a_letter(stack: Stack) -> None:
    card = await run(stack, "/support-admin message add You don't owe anyone an answer")
    assert card.body == "You don't owe anyone an answer"


async def test_an_error_names_the_word_typed_never_an_option_not_typed(stack: Stack) -> None:
    card = await run(stack, "/support-admin message show coming-out-1 extra")
    assert card.tone is CardTone.ERROR
    assert "'extra'" in card.body
    assert "key:coming-out-own-pace" not in text_of(card)  # the old, misleading example


# ---- topic and topics -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["topic", "topics"])
async def test_topic_and_topics_are_both_accepted(stack: Stack, name: str) -> None:
    added = await run(stack, f"/support-admin message add {name}:harassment You matter")
    assert dict(added.fields)["Topics"] == "harassment", text_of(added)
    listed = await run(stack, f"/support-admin message list {name}:harassment")
    assert listed.tone is CardTone.INFO and "You matter" in text_of(listed)


async def test_a_filter_with_an_unknown_topic_gets_the_closest_choices(stack: Stack) -> None:
    card = await run(stack, "/support-admin message list topic:qqqq")
    assert card.tone is CardTone.ERROR
    assert "Nothing here yet" not in text_of(card)
    assert card.choices, "the valid topics are offered"


# ---- limits before anything slow ------------------------------------------------------------


async def test_an_option_over_its_limit_is_refused_at_once(stack: Stack) -> None:
    huge = "x" * 1_000_000
    card = await run(stack, f"/support-admin settings timezone timezone:{huge}")
    assert card.tone is CardTone.ERROR
    assert card.body == "timezone: is 1000000 characters; the limit is 64."


# ---- keys -----------------------------------------------------------------------------------


async def test_adding_a_key_that_exists_says_it_is_already_there(stack: Stack) -> None:
    line = (
        "/support-admin resource add key:gb-local title:Local url:https://example.org "
        "topics:crisis regions:GB"
    )
    assert (await run(stack, line)).tone is CardTone.SUCCESS
    again = await run(stack, line)
    assert again.title == "Already in the library"
    assert "resource show key:gb-local" in again.footer
    assert "resource edit key:gb-local" in again.footer
    assert "changed since" not in text_of(again).lower()


@pytest.mark.parametrize("title", ["Телефон доверия", "いのちの電話", "🏳️‍🌈💬", "Café Amitié"])
async def test_titles_without_latin_letters_get_unique_keys(stack: Stack, title: str) -> None:
    keys = []
    for n in range(2):
        card = await run(
            stack,
            f'/support-admin resource add title:"{title}" url:https://example.org/{n} '
            "topics:crisis regions:GB",
        )
        assert card.tone is CardTone.SUCCESS, text_of(card)
        keys.append(dict(card.fields)["Key"])
    assert keys[0] != keys[1]
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9-]*", key) for key in keys)
    assert keys[0] != "gb-item"


# ---- history and undo -----------------------------------------------------------------------


async def test_a_second_undo_says_there_is_nothing_left_to_undo(stack: Stack) -> None:
    await run(stack, "/support-admin message edit key:coming-out-1 New words")
    first = await run(stack, "/support-admin message undo key:coming-out-1")
    assert first.tone is CardTone.SUCCESS
    second = await run(stack, "/support-admin message undo key:coming-out-1")
    assert second.tone is CardTone.ERROR
    assert "Nothing left to undo" in second.body
    shown = await stack.curation.get(stack.ctx(), ItemKind.MESSAGE, "coming-out-1")
    assert shown.text != "New words", "the undo stood; the message was not deleted"


async def test_history_is_in_the_communitys_time_zone_with_before_and_after(
    stack: Stack,
) -> None:
    await run(stack, "/support-admin settings timezone America/New_York")
    await run(stack, "/support-admin message edit key:coming-out-1 Later words")
    history = await run(stack, "/support-admin message history coming-out-1")
    # Audit times are stored in UTC and shown in New York time (EST in winter).
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d EST edit by Mod One", history.lines[0])
    assert any(
        line.strip().startswith("text:") and "→ Later words" in line for line in history.lines
    )


# ---- the moderator gate comes first ---------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "/support-admin message add You are loved",
        "/support-admin message add text:oops phone:1 2 3",
        '/support-admin message add text:"unclosed',
        "/support-admin nonsense",
        "/support-admin",
    ],
)
async def test_a_member_is_told_it_is_for_moderators_whatever_they_type(
    stack: Stack, line: str
) -> None:
    card = await stack.router.run_text(stack.ctx(MEMBER), line)
    assert card.title == "Not permitted"
    assert "Only moderators" in card.body
    assert "name:value" not in text_of(card)


# ---- help names only what exists ------------------------------------------------------------


_COMMAND = re.compile(r"(?:/support-admin |`)([a-z-]+) ([a-z-]+)")


async def test_help_and_hints_only_name_commands_that_exist(stack: Stack) -> None:
    stack.router.add_table(PackCommands(stack.curation, stack.support, stack.clock).table)
    tables = stack.router.tables
    cards = [
        stack.router.help_card(),
        await run(stack, "/support-admin message list"),
        await run(stack, "/support-admin resource list"),
        await run(stack, "/support-admin message remove key:coming-out-1"),
        await run(stack, "/support-admin message history key:coming-out-1"),
        await run(stack, "/support-admin message show key:nope"),
        await run(stack, "/support-admin message frobnicate"),
        await run(stack, "/support-admin message edit"),
        await run(stack, "/support-admin resource add title:x"),
    ]
    for card in cards:
        for group, verb in _COMMAND.findall(text_of(card)):
            # A misspelt group ("mesage add") is a command that does not exist too.
            assert group in tables, f"no group {group!r} for '{group} {verb}' in {card.title}"
            assert tables[group].verb(verb) is not None, f"{group} {verb} in {card.title}"
    assert "show <key>" in text_of(cards[1])  # spelled with its group now


# ---- files in the console -------------------------------------------------------------------


async def test_console_pack_export_writes_the_file_and_import_reads_it(
    stack: Stack, tmp_path: Path
) -> None:
    stack.router.add_table(PackCommands(stack.curation, stack.support, stack.clock).table)
    files = ConsoleFiles(tmp_path)
    exported = await run(stack, "/support-admin pack export file:library.yaml", files)
    assert exported.attachment is None
    written = tmp_path / "library.yaml"
    assert str(written) in exported.footer
    assert "messages:" in written.read_text(encoding="utf-8")

    changed = written.read_text(encoding="utf-8").replace("Take your time", "Go at your pace")
    (tmp_path / "changed.yaml").write_text(changed, encoding="utf-8")
    preview = await run(stack, "/support-admin pack import file:changed.yaml", files)
    assert preview.title == "Pack import preview", text_of(preview)
    missing = await run(stack, "/support-admin pack import file:nope.yaml", files)
    assert missing.tone is CardTone.ERROR and "There is no file" in missing.body
    elsewhere = await run(stack, "/support-admin pack import file:changed.yaml")
    assert "Only the console" in elsewhere.body


async def test_an_import_is_in_history_and_undo_reverts_it_instead_of_deleting(
    stack: Stack, tmp_path: Path
) -> None:
    stack.router.add_table(PackCommands(stack.curation, stack.support, stack.clock).table)
    files = ConsoleFiles(tmp_path)
    await run(stack, "/support-admin pack export file:library.yaml", files)
    original = await stack.curation.get(stack.ctx(), ItemKind.MESSAGE, "coming-out-1")
    text = (tmp_path / "library.yaml").read_text(encoding="utf-8")
    (tmp_path / "changed.yaml").write_text(
        text.replace(original.text, "An imported text."), encoding="utf-8"
    )
    preview = await run(stack, "/support-admin pack import file:changed.yaml", files)
    [apply] = preview.actions
    applied = await run(stack, apply.value)
    assert "1 changed" in applied.body, text_of(applied)
    imported = await stack.curation.get(stack.ctx(), ItemKind.MESSAGE, "coming-out-1")
    assert imported.text == "An imported text." and imported.version == original.version + 1

    history = await run(stack, "/support-admin message history coming-out-1")
    assert " import by Mod One" in history.lines[0]
    await run(stack, "/support-admin message undo coming-out-1")
    restored = await stack.curation.get(stack.ctx(), ItemKind.MESSAGE, "coming-out-1")
    assert restored.text == original.text


async def test_a_filter_with_a_typo_is_answered_with_the_closest_topic_first(
    stack: Stack,
) -> None:
    card = await run(stack, "/support-admin message list topic:harasment")
    assert card.tone is CardTone.ERROR, "a guessed filter could look complete and not be"
    assert card.choices[0].value == "harassment"
    assert card.choices_label == "Closest topics"
    assert "Did you mean harassment?" in card.footer
    assert card.plain_text().count("harassment") == 2  # the hint, and the list once


async def test_an_unknown_command_lists_the_closest_commands_labelled(stack: Stack) -> None:
    card = await run(stack, "/support-admin message lsit")
    assert card.choices[0].value == "list"
    assert card.choices_label == "Closest commands"
    assert "apply" not in [choice.value for choice in card.choices]


# ---- time zones and characters as people type them -----------------------------------------


@pytest.mark.parametrize("typed", ["GMT", "BST", "UK", "London"])
async def test_time_zones_as_people_say_them_mean_london_and_say_summer_time(
    stack: Stack, typed: str
) -> None:
    card = await run(stack, f"/support-admin settings timezone {typed}")
    assert dict(card.fields)["Time zone for schedules"] == "Europe/London", text_of(card)
    # London too: a city name is as much a guess at the zone as GMT or UK.
    assert card.footer.startswith(
        f"{typed} is taken as Europe/London, which follows summer time (BST) from March to October."
    )


async def test_a_fixed_offset_is_explained_not_mapped_to_the_opposite(stack: Stack) -> None:
    card = await run(stack, "/support-admin settings timezone UTC+3")
    assert card.tone is CardTone.ERROR
    assert "Etc/GMT-3" in text_of(card)
    assert "Etc/GMT+3" not in text_of(card)
    community = await stack.communities.get(stack.ctx().community_id)
    assert community is not None and community.timezone != "Etc/GMT+3"


@pytest.mark.parametrize("emoji", ["🏳️‍🌈", "👨‍👩‍👧", "🏳️‍⚧️"])
async def test_pride_flags_and_family_emoji_are_accepted(stack: Stack, emoji: str) -> None:
    card = await run(stack, f"/support-admin message add You belong here {emoji}")
    assert card.tone is CardTone.SUCCESS, text_of(card)
    assert card.body.endswith(emoji)


@pytest.mark.parametrize("control", ["\u202e", "\u200b", "\u061c", "\u2066"])
async def test_a_lone_direction_or_zero_width_control_is_refused(
    stack: Stack, control: str
) -> None:
    before = await stack.support.library(stack.ctx().community_id)
    card = await run(stack, f"/support-admin message add Safe{control}text")
    assert card.tone is CardTone.ERROR
    assert f"U+{ord(control):04X}" in card.body
    assert await stack.support.library(stack.ctx().community_id) == before


async def test_text_that_is_not_utf8_is_answered_as_such(stack: Stack) -> None:
    broken = b"caf\xe9 ouvert".decode("utf-8", errors="surrogateescape")
    card = await run(stack, f"/support-admin message add {broken}")
    assert card.tone is CardTone.ERROR
    assert "not valid UTF-8" in card.body


async def test_support_understands_typos_and_topic_aliases(stack: Stack) -> None:
    typo = await run(stack, "/support comming-out")
    assert typo.topic == "coming-out", text_of(typo)


async def test_an_edit_given_a_change_by_an_alias_runs_instead_of_opening_a_form(
    stack: Stack,
) -> None:
    ctx = stack.ctx()
    form = await stack.router.form(
        ctx, "message", "edit", {"key": "coming-out-1", "topic": "crisis"}
    )
    assert form is None, "topic: is topics:, a change: nothing to ask"
    asked = await stack.router.form(ctx, "message", "edit", {"key": "coming-out-1"})
    assert asked is not None and not isinstance(asked, Card)
    assert [field.option.name for field in asked.fields] == ["text", "topics", "locale"]
    assert asked.carried["key"] == "coming-out-1" and asked.carried["version"] == "1"


async def test_console_pack_import_refuses_a_device_without_reading_it(
    stack: Stack, tmp_path: Path
) -> None:
    stack.router.add_table(PackCommands(stack.curation, stack.support, stack.clock).table)
    card = await run(stack, "/support-admin pack import file:/dev/zero", ConsoleFiles(tmp_path))
    assert card.tone is CardTone.ERROR
    assert "not a regular file" in card.body


@pytest.mark.sqlite_only
async def test_console_export_never_writes_over_the_database(stack: Stack, tmp_path: Path) -> None:
    stack.router.add_table(PackCommands(stack.curation, stack.support, stack.clock).table)
    database = stack.db.path
    before = database.read_bytes()
    files = ConsoleFiles(database.parent, database)
    for name in (database.name, f"{database.name}-wal"):
        card = await run(stack, f"/support-admin pack export file:{name}", files)
        assert card.tone is CardTone.ERROR and "database itself" in card.body, name
    assert database.read_bytes() == before
    assert (await run(stack, "/support-admin message show coming-out-1")).tone is CardTone.INFO


@pytest.mark.parametrize(
    "line",
    [
        "/support-admin message list page:²",
        "/support-admin message list page:٣",
        '/support-admin settings timezone "UTC"',
    ],
)
async def test_digits_that_are_not_ascii_get_a_clear_answer(stack: Stack, line: str) -> None:
    card = await run(stack, line)
    assert card.title != "Something went wrong on our side", card.body


def test_a_monthly_day_written_in_superscript_is_a_clear_error() -> None:
    from datetime import UTC, datetime

    from bot.core.errors import ValidationFailed
    from bot.core.scheduling.recurrence import parse_when

    with pytest.raises(ValidationFailed, match="monthly"):
        parse_when("monthly ² 09:00", "UTC", datetime(2026, 12, 1, tzinfo=UTC))


async def test_an_import_applied_after_someone_edited_an_item_it_changes_imports_nothing(
    stack: Stack, tmp_path: Path
) -> None:
    stack.router.add_table(PackCommands(stack.curation, stack.support, stack.clock).table)
    files = ConsoleFiles(tmp_path)
    await run(stack, "/support-admin pack export file:library.yaml", files)
    original = await stack.curation.get(stack.ctx(), ItemKind.MESSAGE, "coming-out-1")
    text = (tmp_path / "library.yaml").read_text(encoding="utf-8")
    (tmp_path / "changed.yaml").write_text(
        text.replace(original.text, "An imported text."), encoding="utf-8"
    )
    [apply] = (await run(stack, "/support-admin pack import file:changed.yaml", files)).actions
    await run(stack, "/support-admin message edit coming-out-1 A moderator's newer words")
    applied = await run(stack, apply.value)
    assert applied.tone is CardTone.ERROR and "changed since the preview" in applied.body
    kept = await stack.curation.get(stack.ctx(), ItemKind.MESSAGE, "coming-out-1")
    assert kept.text == "A moderator's newer words"
