"""Reading a recipient CSV: encoding, delimiter, header, and the check of every row.

Plain Python (no Django), so that `check_batch` can run in worker processes (phones.BatchPool);
messaging/campaigns/imports.py loads the result into the database.

Files come from spreadsheets, so the reader accepts what they write:

- encodings: UTF-8 with or without a byte-order mark ("CSV UTF-8"), UTF-16 with a BOM (Excel's
  "Unicode Text", tab-separated), and Windows-1252 when a file is not UTF-8 at all (Excel's plain
  "CSV" on Western Windows). Bytes that do not decode make their row invalid, not the whole file;
- delimiter: comma, semicolon or tab, whichever splits the first rows most consistently;
- quoting: fields in double quotes may hold delimiters, quotes ("") and line breaks.

The first row names the columns. Rows are numbered as a spreadsheet numbers them (the header is
row 1, a record spanning several lines is one row), so the error report points where the
operator will look.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path

from messaging.phones import Normaliser, check_platform_id

SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
# A field this large is almost always an unclosed quote swallowing the rest of the file.
FIELD_LIMIT = 128 * 1024
# Meta refuses template variables with line breaks, tabs or more than four spaces in a row.
_BAD_WHITESPACE = re.compile(r"[\n\r\t]| {5,}")
_UNDECODED = re.compile("[\udc80-\udcff]")
VARIABLE_MAX_LENGTH = 1024

csv.field_size_limit(FIELD_LIMIT)


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (not the fault of one row)."""


@dataclass(frozen=True)
class FileFormat:
    encoding: str  # a Python codec name
    label: str  # what the operator is told
    delimiter: str

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))


@dataclass(frozen=True)
class Preview:
    format: FileFormat
    columns: list[str]
    samples: list[list[str]]


def detect_encoding(head: bytes) -> tuple[str, str]:
    """(codec, label) from the first bytes of a file."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "UTF-8 (with byte-order mark)"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "UTF-16 (Excel Unicode text)"
    if len(head) >= 4 and head[1::2].count(0) > len(head) // 4 and head[0::2].count(0) == 0:
        return "utf-16-le", "UTF-16 little-endian (no byte-order mark)"
    if len(head) >= 4 and head[0::2].count(0) > len(head) // 4 and head[1::2].count(0) == 0:
        return "utf-16-be", "UTF-16 big-endian (no byte-order mark)"
    try:
        # The sample may end inside a multi-byte character: an incremental decoder allows that.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1252", "Windows-1252 (not UTF-8)"
    return "utf-8", "UTF-8"


def _sample_text(path: Path, encoding: str) -> str:
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)
    if len(head) == SAMPLE_BYTES and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # no half-read last line
    return text


def detect_delimiter(sample: str) -> str:
    """The candidate that splits the sample's rows into the most consistent number of fields."""
    best, best_score = ",", -1.0
    for delimiter in DELIMITERS:
        try:
            rows = [row for row in csv.reader(io.StringIO(sample), delimiter=delimiter) if row]
        except csv.Error:
            continue
        rows = rows[:50]
        if not rows:
            continue
        widths = Counter(len(row) for row in rows)
        width, agreeing = widths.most_common(1)[0]
        if width < 2:
            continue
        score = agreeing / len(rows) + width / 1000  # consistency first, then more columns
        if score > best_score:
            best, best_score = delimiter, score
    return best


def detect_format(path: Path) -> FileFormat:
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if not head.strip():
        raise UnreadableFile("The file is empty.")
    encoding, label = detect_encoding(head)
    return FileFormat(encoding, label, detect_delimiter(_sample_text(path, encoding)))


def _open_text(path: Path, fmt: FileFormat) -> io.TextIOWrapper:
    # surrogateescape keeps undecodable bytes visible (as lone surrogates) so that only the rows
    # holding them are refused; UTF-16 and cp1252 decode (or replace) everything.
    errors = "surrogateescape" if fmt.encoding.startswith("utf-8") else "replace"
    return open(path, encoding=fmt.encoding, errors=errors, newline="")


def records(path: Path, fmt: FileFormat) -> Iterator[tuple[int, list[str]]]:
    """(row number, fields) for every record after the header; blank lines are skipped."""
    with _open_text(path, fmt) as handle:
        reader = csv.reader(handle, delimiter=fmt.delimiter)
        row = 1
        try:
            next(reader, None)  # the header
            for fields in reader:
                row += 1
                if fields and any(fields):
                    yield row, fields
        except csv.Error as exc:
            raise UnreadableFile(
                f"Row {row + 1} could not be read ({exc}); an unclosed quote is the usual cause."
            ) from exc


def preview(path: Path, rows: int = 5) -> Preview:
    """The format, the column names and the first rows, for the mapping step."""
    fmt = detect_format(path)
    with _open_text(path, fmt) as handle:
        reader = csv.reader(handle, delimiter=fmt.delimiter)
        try:
            header = next(reader, [])
            samples = []
            for fields in reader:
                if fields and any(fields):
                    samples.append(fields)
                if len(samples) >= rows:
                    break
        except csv.Error as exc:
            raise UnreadableFile(f"The file could not be read as CSV ({exc}).") from exc
    if not header:
        raise UnreadableFile("The first row must name the columns.")
    columns = [
        (name.strip().lstrip("\ufeff") or f"Column {index + 1}")[:100]
        for index, name in enumerate(header)
    ]
    return Preview(fmt, columns, samples)


def guess_recipient_column(columns: list[str]) -> int | None:
    """The column most likely to hold the numbers, by its name."""
    wanted = ("phone", "mobile", "msisdn", "number", "to", "whatsapp", "recipient", "tel", "cell")
    lowered = [name.lower() for name in columns]
    for word in wanted:
        for index, name in enumerate(lowered):
            if name == word or name.startswith(word) or name.endswith(word):
                return index
    return None


# -- checking rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mapping:
    """Which columns fill what. Column indexes are 0-based."""

    recipient: int
    variables: tuple[tuple[str, int], ...] = ()  # (template variable, column)
    payload: tuple[int, ...] = ()  # quick-reply payloads, in button order
    default_region: str | None = None
    # Messenger and Instagram recipients are platform ids, not phone numbers.
    platform_ids: bool = False
    max_id_digits: int = 20
    columns: tuple[str, ...] = ()  # names, for messages

    def name(self, column: int) -> str:
        return self.columns[column] if column < len(self.columns) else f"column {column + 1}"

    @property
    def width(self) -> int:
        used = [self.recipient, *(column for _, column in self.variables), *self.payload]
        return max(used) + 1


@dataclass
class Checked:
    """What a batch of rows turned out to be."""

    valid: list[tuple[int, str, str, str]] = field(default_factory=list)  # row, To, params, payload
    invalid: list[tuple[int, str, str]] = field(default_factory=list)  # row, value, reason


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _object(pairs: dict[str, str]) -> str:
    """json.dumps of a flat str -> str dict, compact, without the encoder's per-call set-up."""
    return "{" + ",".join(f"{_string(key)}:{_string(value)}" for key, value in pairs.items()) + "}"


_string = encode_basestring


def check_batch(job: tuple[Mapping, list[tuple[int, list[str]]]]) -> Checked:
    """Check and normalise a batch of rows (runs in a worker process)."""
    mapping, rows = job
    normaliser = None if mapping.platform_ids else _normaliser(mapping.default_region)
    out = Checked()
    width = mapping.width
    for row, fields in rows:
        raw = fields[mapping.recipient] if mapping.recipient < len(fields) else ""
        if len(fields) < width:
            missing = ", ".join(
                mapping.name(column)
                for column in range(len(fields), width)
                if column == mapping.recipient
                or column in mapping.payload
                or any(column == used for _, used in mapping.variables)
            )
            reason = f"the row has {len(fields)} fields; missing {missing}"
            out.invalid.append((row, raw, reason))
            continue
        if _UNDECODED.search(raw):
            out.invalid.append((row, raw, "the number has characters that are not valid text"))
            continue
        if normaliser is not None:
            result = normaliser.normalise(raw)
        else:
            result = check_platform_id(raw, mapping.max_id_digits)
        if result.number is None:
            out.invalid.append((row, raw, result.reason))
            continue
        params: dict[str, str] = {}
        problem = ""
        for variable, column in mapping.variables:
            value = fields[column].strip()
            problem = _variable_problem(variable, mapping.name(column), value)
            if problem:
                break
            params[variable] = value
        if problem:
            out.invalid.append((row, raw, problem))
            continue
        payload = [fields[column].strip() for column in mapping.payload]
        if any(_UNDECODED.search(value) or "\x00" in value for value in payload):
            out.invalid.append((row, raw, "a payload has characters that are not valid text"))
            continue
        payload_text = _dumps(payload) if any(payload) else "[]"
        out.valid.append((row, result.number, _object(params), payload_text))
    return out


def _variable_problem(variable: str, column: str, value: str) -> str:
    label = f"{{{{{variable}}}}} ({column})"
    if not value:
        return f"{label} is empty"
    if _UNDECODED.search(value) or "\x00" in value:
        return f"{label} has characters that are not valid text"
    if _BAD_WHITESPACE.search(value):
        return f"{label} has a line break, a tab or more than four spaces in a row"
    if len(value) > VARIABLE_MAX_LENGTH:
        return f"{label} is longer than {VARIABLE_MAX_LENGTH:,} characters"
    return ""


_normalisers: dict[str | None, Normaliser] = {}


def _normaliser(region: str | None) -> Normaliser:
    found = _normalisers.get(region)
    if found is None:
        found = _normalisers[region] = Normaliser(region)
    return found
