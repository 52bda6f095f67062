"""The pack schema's rank, audience, ages, opening_hours and timezone, and the checker's list
of superseded numbers: each mistake is one problem with its place and how to fix it."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.content.packs import export_pack, parse_pack, superseded_in
from bot.core.models import Audience
from bot.core.ports import Library
from tests.core.test_packs import TODAY, check, minimal, only_error


def with_line(**fields: Any) -> dict[str, Any]:
    data = minimal()
    data["resources"][0].update(fields)
    return data


def test_rank_audience_ages_and_hours_are_read() -> None:
    pack, problems = check(
        with_line(
            rank=5,
            audience="young-people",
            ages="under 19",
            opening_hours="24/7",
            timezone="Europe/London",
        )
    )
    assert pack is not None, [str(p) for p in problems]
    line = pack.resources[0]
    assert (line.rank, line.audience, line.age_min, line.age_max) == (
        5,
        Audience.YOUNG_PEOPLE,
        None,
        18,
    )
    assert (line.opening_hours, line.timezone) == ("24/7", "Europe/London")
    assert pack.resources[1].rank == 100 and pack.resources[1].audience is Audience.EVERYONE


def test_a_message_audience_is_read() -> None:
    data = minimal()
    data["messages"][0]["audience"] = "parents-and-families"
    pack, _ = check(data)
    assert pack is not None and pack.messages[0].audience is Audience.PARENTS_AND_FAMILIES


@pytest.mark.parametrize(
    ("fields", "place", "says"),
    [
        ({"rank": 0}, "resources[0].rank", "from 1 to 999"),
        ({"rank": "first"}, "resources[0].rank", "whole number"),
        ({"audience": "kids"}, "resources[0].audience", "must be one of everyone, young-people"),
        ({"audience": "young-people", "ages": "teens"}, "resources[0].ages", "under 19"),
        ({"ages": "under 19"}, "resources[0].ages", "only for audience: young-people"),
        ({"opening_hours": "Mon-Fri 9-5"}, "resources[0].opening_hours", "not a day"),
        ({"opening_hours": "Mo-Fr 09:00-17:00"}, "resources[0].opening_hours", "always_open"),
        ({"timezone": "London"}, "resources[0].timezone", "IANA time zone"),
    ],
)
def test_each_mistake_is_one_problem_in_its_place(
    fields: dict[str, Any], place: str, says: str
) -> None:
    problem = only_error(with_line(**fields))
    assert problem.place == place
    assert says in problem.message


@pytest.mark.parametrize(
    "display",
    ["0300 330 0630", "03003300630", "+44 300 330 0630", "1890 929 539", "020 7704 2040"],
)
def test_a_superseded_number_in_a_contact_is_refused_in_any_spacing(display: str) -> None:
    data = with_line()
    data["resources"][0]["contacts"] = [{"kind": "phone", "display": display}]
    pack, problems = check(data)
    assert pack is None
    assert any("superseded number" in p.message for p in problems), [str(p) for p in problems]


def test_a_superseded_number_in_a_description_or_note_is_refused() -> None:
    problem = only_error(with_line(description="Old line: 0800 130 3335."))
    assert problem.place == "resources[0]"
    assert "0800 130 3335" in problem.message and "Galop" in problem.message
    assert superseded_in("call +1-800-273-8255") and not superseded_in("call 0800 1111")


def test_export_writes_the_new_fields_and_reads_back_the_same() -> None:
    pack, _ = check(
        with_line(
            rank=5,
            audience="young-people",
            ages="5-25",
            opening_hours="24/7",
        )
    )
    assert pack is not None
    library = Library(
        topics=pack.topics,
        messages=pack.messages,
        resources=pack.resources,
        emergency_numbers=pack.emergency_numbers,
    )
    for fmt, name in (("yaml", "p.yaml"), ("json", "p.json")):
        text = export_pack(library, pack_id="t", fmt=fmt, disclaimer="d")  # type: ignore[arg-type]
        again, problems = parse_pack(text, name, today=TODAY)
        assert again is not None, [str(p) for p in problems]
        assert again.resources == pack.resources
