import pytest

from acd.core import RequirementError, parse_requirement
from acd.core.requirements import ANYONE, AllOf, AnyOf, Comparison, any_of


def test_empty_means_anyone() -> None:
    assert parse_requirement("") is ANYONE
    assert parse_requirement("   ") is ANYONE
    assert parse_requirement("").matches({})


def test_and_of_comparisons() -> None:
    requirement = parse_requirement("lang_ja>=3 and billing>=2")
    assert requirement == AllOf((Comparison("lang_ja", ">=", 3), Comparison("billing", ">=", 2)))
    assert requirement.matches({"lang_ja": 5, "billing": 3})
    assert not requirement.matches({"lang_ja": 5, "billing": 1})
    assert not requirement.matches({"billing": 3})  # a missing skill is level 0


@pytest.mark.parametrize(
    ("text", "skills", "expected"),
    [
        ("a==2", {"a": 2}, True),
        ("a==2", {"a": 3}, False),
        ("a!=2", {}, True),
        ("a>2", {"a": 2}, False),
        ("a>2", {"a": 3}, True),
        ("a<=2", {"a": 2}, True),
        ("a<2", {}, True),
        ("a>=1 or b>=1", {"b": 1}, True),
        ("a>=1 or b>=1", {}, False),
        ("a>=1 AND (b>=1 OR c>=1)", {"a": 1, "c": 4}, True),
        ("a>=1 and (b>=1 or c>=1)", {"a": 1}, False),
        ("(a>=1)", {"a": 1}, True),
        ("a >= 1 and b >= 1 or c >= 1", {"c": 1}, True),  # and binds tighter than or
    ],
)
def test_matching(text: str, skills: dict[str, int], expected: bool) -> None:
    assert parse_requirement(text).matches(skills) is expected


def test_canonical_text_round_trips() -> None:
    for text in ["a>=1 and (b>=1 or c>=2)", "a>=1 or b==2", "x<3"]:
        parsed = parse_requirement(text)
        assert parse_requirement(str(parsed)) == parsed
    assert str(parse_requirement("  a >=  1 AND b>=2 ")) == "a>=1 and b>=2"


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("lang_ja>=", 10, "skill level"),
        ("lang_ja 3", 9, "comparison"),
        ("lang_ja>=3 and", 15, "ends too early"),
        ("(a>=1", 6, "missing ')'"),
        ("a>=1)", 5, "unexpected ')'"),
        ("a>=1 b>=2", 6, "unexpected 'b'"),
        ("__import__('os')", 12, "unexpected character"),
        ("a>=-1", 4, "unexpected character '-'"),
        ("a>=1 and or b>=1", 10, "skill name"),
        ("言語>=3", 1, "unexpected character"),
    ],
)
def test_errors_say_where_and_why(text: str, column: int, fragment: str) -> None:
    with pytest.raises(RequirementError) as caught:
        parse_requirement(text)
    assert caught.value.column == column
    assert fragment in str(caught.value)
    assert repr(text) in str(caught.value)


def test_overlong_expression_is_refused() -> None:
    with pytest.raises(RequirementError, match="longer than"):
        parse_requirement(" or ".join(["a>=1"] * 400))


def test_any_of_widens_and_simplifies() -> None:
    strict = parse_requirement("a>=3")
    loose = parse_requirement("a>=1")
    assert any_of(strict, ANYONE) is ANYONE
    assert any_of(strict, strict) == strict
    union = any_of(strict, loose)
    assert isinstance(union, AnyOf)
    assert union.matches({"a": 1}) and not strict.matches({"a": 1})
