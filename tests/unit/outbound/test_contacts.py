"""Contact CSV: encodings, quoted names over lines, number normalisation, bad rows by line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outbound.contacts import BadRow, ContactFileError, normalise_number, parse_contacts

CSV = (
    "phone,name,plan\r\n"
    "03-1234-5678,山田 太郎,gold\r\n"
    '"０９０－１１１１－２２２２","鈴木 ""はなこ""\r\n花子",silver\r\n'
    "+81 3 9999 0000,佐藤,\r\n"
    "12345,短い,\r\n"
    "0312345678,重複,\r\n"
    "0120-000-111,お断り,\r\n"
    ",番号なし,\r\n"
    "\r\n"
    "0311112222,列が多い,x,y\r\n"
    "(03)2222-3333,最後,bronze\r\n"
)


def test_rows_bad_rows_and_lines() -> None:
    parsed = parse_contacts(CSV.encode("utf-8"), dnc={"0120000111"})
    assert parsed.encoding == "utf-8"
    assert [(c.line, c.phone, c.name) for c in parsed.contacts] == [
        (2, "0312345678", "山田 太郎"),
        (3, "09011112222", '鈴木 "はなこ"\r\n花子'),
        (5, "0399990000", "佐藤"),
        (12, "0322223333", "最後"),
    ]
    assert parsed.contacts[0].data == {"plan": "gold"}
    assert parsed.bad == [
        BadRow(6, "bad number '12345'"),
        BadRow(7, "duplicate: 0312345678 is on line 2"),
        BadRow(8, "0120000111 is on the do-not-call list"),
        BadRow(9, "no phone number"),
        BadRow(11, "4 fields, the header has 3"),
    ]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp932", "shift_jis"])
def test_bom_and_shift_jis_are_read(encoding: str) -> None:
    text = "電話番号,氏名,メモ\r\n03-1234-5678,山田 太郎,法人\r\n"
    parsed = parse_contacts(text.encode(encoding))
    assert parsed.encoding == ("utf-8-sig" if encoding == "utf-8-sig" else "cp932")
    [contact] = parsed.contacts
    assert (contact.phone, contact.name, contact.data) == (
        "0312345678",
        "山田 太郎",
        {"メモ": "法人"},
    )


def test_files_that_cannot_be_read() -> None:
    with pytest.raises(ContactFileError, match="no phone column"):
        parse_contacts(b"name,plan\r\nx,y\r\n")
    with pytest.raises(ContactFileError, match="header"):
        parse_contacts(b"")
    with pytest.raises(ContactFileError, match="neither UTF-8 nor Shift_JIS"):
        parse_contacts(b"phone\r\n\x81\x00\xff\xfe\r\n")


def test_many_rows() -> None:
    lines = ["phone,name"] + [f"03-{i // 10000:04d}-{i % 10000:04d},客{i}" for i in range(100_000)]
    parsed = parse_contacts("\n".join(lines).encode("utf-8"))
    assert len(parsed.contacts) == 100_000 and parsed.bad == []
    assert parsed.contacts[-1].line == 100_001


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("03-1234-5678", "0312345678"),
        ("０３－１２３４－５６７８", "0312345678"),
        ("090ー1111ー2222", "09011112222"),  # the long vowel mark typed for a dash
        ("+81-90-1111-2222", "09011112222"),
        ("(0120) 123 456", "0120123456"),
        ("12345", None),
        ("03-1234-5678;DROP", None),
        ("0312345678,1", None),
        ("+1 212 555 0100", None),
        ("٠٣١٢٣٤٥٦٧٨", None),  # Arabic-Indic digits: not what a Japanese list holds
        ("", None),
    ],
)
def test_normalise_number(raw: str, expected: str | None) -> None:
    assert normalise_number(raw) == expected


@given(st.text())
def test_a_normalised_number_is_only_ascii_digits(raw: str) -> None:
    number = normalise_number(raw)
    assert number is None or (number.isascii() and number.isdigit() and 10 <= len(number) <= 11)
