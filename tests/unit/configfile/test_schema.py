"""configfile.schema: pydantic's errors become ConfigProblems naming file, key and reason."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainValidator

from configfile.schema import key_path, problem, validate_file


def _small(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 9:
        raise problem(f"{value!r} is not a digit")
    return value


Digit = Annotated[int, PlainValidator(_small)]


class Table(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Step(Table):
    after: Digit = 1


class Entry(Table):
    id: str
    level: Digit = 0


class File(Table):
    width: Digit = 5
    steps: list[Step] = []
    entry: list[Entry] = []
    named: dict[str, Step] = {}


def problems_of(data: dict[str, object]) -> list[tuple[str, str]]:
    _, found = validate_file(File, data, file="f.toml")
    assert all(p.file == "f.toml" for p in found)
    return sorted((p.key, p.reason) for p in found)


def test_every_problem_at_once_with_dotted_keys() -> None:
    assert problems_of(
        {
            "width": "x",
            "widht": 1,
            "steps": [{"after": 3}, {"after": 12}, 4],
            "entry": [{"id": "a", "level": 10}, {"level": 1}],
            "named": {"one": {"aftr": 1}, "two": 2},
        }
    ) == [
        ("entry.a.level", "10 is not a digit"),
        ("entry[1].id", "is required"),
        ("named.one.aftr", "unknown key (did you mean 'after'?)"),
        ("named.two", "expected a table ([named.two]), got an integer"),
        ("steps[1].after", "12 is not a digit"),
        ("steps[2]", "expected a table ([[steps]]), got an integer"),
        ("widht", "unknown key (did you mean 'width'?)"),
        ("width", "'x' is not a digit"),
    ]


def test_failing_values_fall_back_to_defaults_and_incomplete_entries_are_dropped() -> None:
    model, found = validate_file(
        File,
        {"width": 42, "steps": [{"after": 3}, {"after": "x"}], "entry": [{"level": 1}]},
        file="f.toml",
    )
    assert model.width == 5
    assert [step.after for step in model.steps] == [3, 1]
    assert model.entry == []
    assert len(found) == 3


def test_an_entry_is_named_by_its_index_while_its_id_is_the_problem() -> None:
    data = {"entry": [{"id": "ok"}, {"id": 7, "level": 11}]}
    _, found = validate_file(File, data, file="f.toml")
    assert {p.key for p in found} == {"entry[1].id", "entry[1].level"}
    assert key_path(data, ("entry", 0, "level")) == "entry.ok.level"


def test_a_valid_file_has_no_problem() -> None:
    model, found = validate_file(File, {"width": 3}, file="f.toml")
    assert found == [] and model.width == 3
