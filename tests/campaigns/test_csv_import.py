"""Reading recipient files as spreadsheets write them, and checking every row."""

import codecs
from pathlib import Path

import pytest

from messaging import csv_import
from messaging.csv_import import Mapping, UnreadableFile, check_batch, detect_format, preview

ROWS = [
    ["phone", "name", "order"],
    ["+65 9123 4567", "Alice", "ORD-1"],
    ["6591234568", "Bob; Jr.", "ORD-2"],
]


def write(path: Path, text: str, encoding: str, bom: bytes = b"") -> Path:
    path.write_bytes(bom + text.encode(encoding))
    return path


def table(rows: list[list[str]], delimiter: str = ",") -> str:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize(
    ("encoding", "bom", "delimiter", "label"),
    [
        ("utf-8", b"", ",", "UTF-8"),
        ("utf-8", codecs.BOM_UTF8, ";", "UTF-8 (with byte-order mark)"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "\t", "UTF-16 (Excel Unicode text)"),
        ("utf-16-be", codecs.BOM_UTF16_BE, ",", "UTF-16 (Excel Unicode text)"),
        ("cp1252", b"", ";", "Windows-1252 (not UTF-8)"),
    ],
)
def test_it_reads_what_spreadsheets_write(
    tmp_path: Path, encoding: str, bom: bytes, delimiter: str, label: str
) -> None:
    rows = [*ROWS, ["+44 7911 123456", "Zoë Ångström", "ORD-€"]]
    path = write(tmp_path / "list.csv", table(rows, delimiter), encoding, bom)
    seen = preview(path)
    assert seen.format.label == label
    assert seen.format.delimiter == delimiter
    assert seen.columns == ["phone", "name", "order"]
    assert seen.samples[2] == ["+44 7911 123456", "Zoë Ångström", "ORD-€"]
    assert list(csv_import.records(path, seen.format)) == [
        (2, ROWS[1]),
        (3, ROWS[2]),
        (4, ["+44 7911 123456", "Zoë Ångström", "ORD-€"]),
    ]


def test_it_keeps_quoted_line_breaks_and_counts_rows_as_a_spreadsheet_does(
    tmp_path: Path,
) -> None:
    text = 'phone,note\r\n"6591234567","two\r\nlines, and ""quotes"""\r\n\r\n6591234568,x\r\n'
    path = write(tmp_path / "q.csv", text, "utf-8")
    fmt = detect_format(path)
    assert list(csv_import.records(path, fmt)) == [
        (2, ["6591234567", 'two\r\nlines, and "quotes"']),
        (4, ["6591234568", "x"]),
    ]


def test_it_takes_a_single_column_file(tmp_path: Path) -> None:
    path = write(tmp_path / "one.csv", "phone\n6591234567\n6591234568\n", "utf-8")
    assert detect_format(path).delimiter == ","
    assert preview(path).columns == ["phone"]


def test_it_refuses_an_empty_file_and_an_unclosed_quote(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="empty"):
        detect_format(write(tmp_path / "empty.csv", "  \n", "utf-8"))
    path = write(tmp_path / "open.csv", 'phone,x\n1,"' + "y" * 200_000 + "\n", "utf-8")
    with pytest.raises(UnreadableFile, match="unclosed quote"):
        list(csv_import.records(path, detect_format(path)))


def test_it_guesses_the_number_column() -> None:
    assert csv_import.guess_recipient_column(["Name", "Mobile phone", "x"]) == 1
    assert csv_import.guess_recipient_column(["Name", "WhatsApp"]) == 1
    assert csv_import.guess_recipient_column(["a", "b"]) is None


MAPPING = Mapping(
    recipient=0,
    variables=(("1", 1), ("2", 2)),
    payload=(3,),
    columns=("phone", "name", "order", "reply"),
)


def test_it_checks_each_row_and_says_why() -> None:
    rows = [
        (2, ["+65 9123 4567", "Alice", "ORD-1", "yes"]),
        (3, ["not a number", "Bob", "ORD-2", ""]),
        (4, ["6591234568", "", "ORD-3", ""]),
        (5, ["6591234569", "Carol", "line\nbreak", ""]),
        (6, ["6591234570", "Dan"]),
        (7, ["6591234571", "Eve \udce9", "ORD-7", ""]),
        (8, ["6591234572", "Fay", "ORD-8", ""]),
    ]
    checked = check_batch((MAPPING, rows))
    assert checked.valid == [
        (2, "6591234567", '{"1":"Alice","2":"ORD-1"}', '["yes"]'),
        (8, "6591234572", '{"1":"Fay","2":"ORD-8"}', "[]"),
    ]
    reasons = {row: (value, reason) for row, value, reason in checked.invalid}
    assert reasons[3] == ("not a number", "not a phone number")
    assert reasons[4][1] == "{{1}} (name) is empty"
    assert "line break" in reasons[5][1]
    assert reasons[6][1] == "the row has 2 fields; missing order, reply"
    assert "not valid text" in reasons[7][1]


def test_it_reads_national_numbers_with_the_default_country() -> None:
    mapping = Mapping(recipient=0, default_region="GB")
    checked = check_batch((mapping, [(2, ["07911 123456"]), (3, ["+65 9123 4567"])]))
    assert [to for _, to, _, _ in checked.valid] == ["447911123456", "6591234567"]


def test_it_takes_platform_ids_for_messenger() -> None:
    mapping = Mapping(recipient=0, platform_ids=True)
    checked = check_batch((mapping, [(2, ["2749012345678901"]), (3, ["+65 9123"])]))
    assert [to for _, to, _, _ in checked.valid] == ["2749012345678901"]
    assert checked.invalid == [(3, "+65 9123", "a recipient id has digits only")]
