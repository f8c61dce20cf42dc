"""Phone numbers to E.164, fast enough for a million-row CSV.

phonenumbers is the authority on what a valid number is, but `parse()` costs ~25 µs and a full
parse-validate-format ~60 µs, which makes it the bottleneck of a big import. Most values in a
recipient file are plain digits, with or without a '+', in a handful of countries, so this module
answers those from phonenumbers' own metadata without going through `parse()`:

- the country code is split off by the same first-match rule as phonenumbers (calling codes are a
  prefix code), and validity is phonenumbers' rule read off its metadata: the number fits the
  region's general description and at least one number type (premium rate ... mobile), each with
  its possible lengths, by full regular-expression match; for a calling code shared by several
  regions the region is chosen as phonenumbers chooses it (leading digits, else type);
- a national number drops the region's trunk prefix exactly when phonenumbers would.

Whatever the fast path cannot answer with certainty (a number that is not valid on the fast path,
IDD prefixes, trunk-prefix transformations, letters, extensions) goes to `phonenumbers.parse`, which
also words the reason a value is refused. tests/campaigns/test_phones.py checks the two paths agree.

The reading rules: a value with '+' (or '00' when no default country is set) is international; bare
digits are a national number of the default country when one is set, and international digits
(as CAMS writes them) when none is. The result is E.164 without the '+', as CAMS wants `To`.

`BatchPool` spreads batches of work over a few processes (both cores), keeping only a bounded
number of batches in flight, so memory stays flat whatever the file size.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, NumberParseException, PhoneMetadata

# Characters people put between digits; removed before the fast path looks at a value.
_SEPARATORS = str.maketrans("", "", " -.()/\u00a0\u2009\u202f\t")
_EXCEL_FLOAT = re.compile(r"^\d(?:[.,]\d+)?[eE]\+?\d+$")
# phonenumbers' own bounds on a national significant number.
_MIN_NSN, _MAX_NSN = 2, 17
# Number types in the order phonenumbers tests them (_number_type_helper).
_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)
NON_GEO = "001"

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "no valid country code (add + and the country code)",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short to be a phone number",
    NumberParseException.TOO_LONG: "too long to be a phone number",
}


@dataclass(frozen=True, slots=True)
class _Desc:
    """A PhoneNumberDesc as phonenumbers' _is_number_matching_desc reads it."""

    lengths: frozenset[int]
    pattern: re.Pattern[str] | None

    @classmethod
    def of(cls, desc: Any) -> _Desc | None:
        if desc is None:
            return None
        source = desc.national_number_pattern
        return cls(frozenset(desc.possible_length or ()), re.compile(source) if source else None)

    def matches(self, nsn: str) -> bool:
        if self.lengths and len(nsn) not in self.lengths:
            return False
        return self.pattern is not None and self.pattern.fullmatch(nsn) is not None


@dataclass(frozen=True, slots=True)
class _Rules:
    """What the fast path needs to know about one region (or non-geographic calling code)."""

    region: str
    country_code: str
    general: _Desc
    local_lengths: frozenset[int]
    max_length: int
    leading_digits: re.Pattern[str] | None
    trunk_prefix: re.Pattern[str] | None
    trunk_transforms: bool
    idd: re.Pattern[str] | None

    validator: re.Pattern[str]

    def valid(self, nsn: str) -> bool:
        """phonenumbers' `_number_type_helper(nsn) != UNKNOWN` for this region."""
        return self.validator.fullmatch(nsn) is not None

    def viable(self, nsn: str) -> bool:
        """phonenumbers' `_match_national_number(nsn, general_desc)`: the pattern, no lengths."""
        return self.general.pattern is not None and self.general.pattern.fullmatch(nsn) is not None

    def too_long(self, nsn: str) -> bool:
        return len(nsn) not in self.local_lengths and len(nsn) > self.max_length


@cache
def _rules(region: str, calling_code: int | None = None) -> _Rules | None:
    if region == NON_GEO:
        metadata = PhoneMetadata.metadata_for_nongeo_region(calling_code or 0, None)
    else:
        metadata = PhoneMetadata.metadata_for_region(region, None)
    if metadata is None:
        return None
    general_desc = metadata.general_desc
    general = _Desc.of(general_desc)
    if general is None or general_desc is None:
        return None
    lengths = general_desc.possible_length or (0,)
    prefix = metadata.national_prefix_for_parsing
    return _Rules(
        validator=_validator(
            metadata.general_desc,
            [getattr(metadata, name) for name in _TYPES]
            if not metadata.same_mobile_and_fixed_line_pattern
            else [getattr(metadata, name) for name in _TYPES if name != "mobile"],
        ),
        region=region,
        country_code=str(metadata.country_code),
        general=general,
        local_lengths=frozenset(general_desc.possible_length_local_only or ()),
        max_length=max(lengths),
        leading_digits=re.compile(metadata.leading_digits) if metadata.leading_digits else None,
        trunk_prefix=re.compile(prefix) if prefix else None,
        trunk_transforms=bool(metadata.national_prefix_transform_rule),
        idd=re.compile(metadata.international_prefix) if metadata.international_prefix else None,
    )


def _fitting(desc: Any) -> str | None:
    """A regular expression matching what `_Desc.of(desc).matches` accepts, or None if nothing:
    the possible lengths become a lookahead in front of the pattern."""
    if desc is None or not desc.national_number_pattern:
        return None
    lengths = sorted(set(desc.possible_length or ()))
    guard = f"(?=(?:{'|'.join(f'.{{{n}}}' for n in lengths)})$)" if lengths else ""
    return f"{guard}(?:{desc.national_number_pattern})"


def _validator(general: Any, kinds: list[Any]) -> re.Pattern[str]:
    """One expression for "fits the general description and at least one number type", so a
    validity check is a single fullmatch."""
    overall = _fitting(general)
    alternatives = [found for found in map(_fitting, kinds) if found is not None]
    if overall is None or not alternatives:
        return re.compile("(?!)")
    either = "|".join(f"(?:{alternative})" for alternative in alternatives)
    return re.compile(f"(?=(?:{overall})$)(?:{either})")


def _split_country_code(digits: str) -> tuple[int, str] | None:
    """phonenumbers' _extract_country_code: the first 1-3 digits that are a calling code."""
    if not digits or digits[0] == "0":
        return None
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            return code, digits[size:]
    return None


def _validity_rules(code: int, nsn: str) -> _Rules | None:
    """The region phonenumbers validates (code, nsn) against (region_code_for_number)."""
    regions = COUNTRY_CODE_TO_REGION_CODE[code]
    if len(regions) == 1:
        return _rules(regions[0], code)
    for region in regions:
        rules = _rules(region, code)
        if rules is None:
            continue
        if rules.leading_digits is not None:
            if rules.leading_digits.match(nsn):
                return rules
        elif rules.valid(nsn):
            return rules
    return None


def _valid(code: int, nsn: str) -> bool:
    rules = _validity_rules(code, nsn)
    return rules is not None and rules.valid(nsn)


def region_of(e164: str) -> str | None:
    """The region code of a normalised number (for messages and reports)."""
    split = _split_country_code(e164)
    if split is None:
        return None
    rules = _validity_rules(*split)
    return rules.region if rules is not None else None


@dataclass(frozen=True, slots=True)
class Result:
    number: str | None  # E.164 digits without '+', or None when the value was refused
    reason: str = ""


class Normaliser:
    """Turns recipient values into E.164 digits. One per import; cheap to build and to pickle."""

    def __init__(self, default_region: str | None = None) -> None:
        region = (default_region or "").strip().upper() or None
        if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown region {default_region!r}")
        self.default_region = region

    def __reduce__(self) -> tuple[Any, ...]:
        return (Normaliser, (self.default_region,))

    def normalise(self, value: str) -> Result:
        text = value.strip()
        if not text:
            return Result(None, "no phone number")
        cleaned = text.translate(_SEPARATORS)
        if cleaned[:1] == "+":
            digits = cleaned[1:]
            if digits.isascii() and digits.isdigit():
                found = self._international(digits)
                if found:
                    return Result(found)
        elif cleaned.isascii() and cleaned.isdigit():
            if self.default_region is None:
                international = cleaned[2:] if cleaned.startswith("00") else cleaned
                found = self._international(international)
                if found:
                    return Result(found)
                return self._slow("+" + international, text)
            found = self._national(cleaned)
            if found:
                return Result(found)
        if self.default_region is None and cleaned[:1] != "+":
            # Without a default country every value is international, stray characters or not.
            digits = "".join(ch for ch in cleaned if ch.isdigit())
            return self._slow("+" + (digits[2:] if digits.startswith("00") else digits), text)
        return self._slow(text, text)

    # -- the fast paths: an E.164 answer, or None for "ask phonenumbers" ------------------------

    def _international(self, digits: str) -> str | None:
        split = _split_country_code(digits)
        if split is None:
            return None
        code, nsn = split
        if not _MIN_NSN <= len(nsn) <= _MAX_NSN:
            return None
        regions = COUNTRY_CODE_TO_REGION_CODE[code]
        main = _rules(regions[0], code)
        if main is None or (main.trunk_prefix is not None and main.trunk_prefix.match(nsn)):
            return None  # parse() would consider stripping a trunk prefix
        return digits if _valid(code, nsn) else None

    def _national(self, digits: str) -> str | None:
        rules = _rules(self.default_region or "")
        if rules is None:
            return None
        idd = rules.idd.match(digits) if rules.idd is not None else None
        if idd is not None:
            # The region's international prefix (00, 011...): parse() reads the rest as if it
            # followed a '+', unless a 0 follows the prefix.
            rest = digits[idd.end() :]
            return self._international(rest) if rest[:1] not in ("", "0") else None
        if digits.startswith(rules.country_code) and (
            not rules.viable(digits) or rules.too_long(digits)
        ):
            return None  # parse() may read the value as country code + number
        nsn = digits
        if rules.trunk_prefix is not None:
            match = rules.trunk_prefix.match(digits)
            if match:
                if rules.trunk_transforms:
                    return None
                stripped = digits[match.end() :]
                # parse() strips when the rest is viable and of a possible length; a valid rest
                # is both. Anything less certain is parse()'s to decide.
                if not rules.valid(stripped) or len(stripped) in rules.local_lengths:
                    return None
                nsn = stripped
        if not _MIN_NSN <= len(nsn) <= _MAX_NSN or not rules.valid(nsn):
            return None
        return rules.country_code + nsn

    # -- phonenumbers itself ---------------------------------------------------------------------

    def _slow(self, text: str, shown: str) -> Result:
        if _EXCEL_FLOAT.match(shown.replace(" ", "")):
            return Result(None, "a number in scientific notation (format the column as text)")
        try:
            number = phonenumbers.parse(text, self.default_region)
        except NumberParseException as exc:
            return Result(None, _PARSE_REASONS.get(exc.error_type, "not a phone number"))
        if number.extension:
            return Result(None, "has an extension, which messaging apps cannot reach")
        if not phonenumbers.is_valid_number(number):
            region = phonenumbers.region_code_for_country_code(number.country_code or 0)
            where = f" for {region}" if region and region != "ZZ" else ""
            return Result(None, f"not a valid number{where}")
        return Result(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:])


def check_platform_id(value: str, max_digits: int) -> Result:
    """A Messenger PSID or Instagram IGSID: digits only, as CAMS wants them."""
    text = value.strip()
    if not text:
        return Result(None, "no recipient id")
    if not (text.isascii() and text.isdigit()):
        return Result(None, "a recipient id has digits only")
    if len(text) > max_digits:
        return Result(None, f"longer than {max_digits} digits")
    return Result(text)


# -- using both cores ------------------------------------------------------------------------------

T = TypeVar("T")
R = TypeVar("R")


def default_processes() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class BatchPool:
    """`map(fn, batches)` over worker processes, results in input order.

    At most `ahead` batches are submitted and not yet collected, so a producer reading a huge file
    never gets more than that far ahead of the workers. Workers come from the forkserver: they do
    not inherit the caller's database connections or threads. With `processes <= 1` everything
    runs inline (tests, small files).
    """

    def __init__(self, processes: int | None = None, ahead: int | None = None) -> None:
        self.processes = default_processes() if processes is None else processes
        self.ahead = ahead or 2 * max(1, self.processes) + 1
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> BatchPool:
        if self.processes > 1:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["messaging.phones", "messaging.csv_import"])
            self._executor = ProcessPoolExecutor(self.processes, mp_context=context)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def map(self, fn: Callable[[T], R], batches: Iterable[T]) -> Iterator[R]:
        if self._executor is None:
            for batch in batches:
                yield fn(batch)
            return
        pending: deque[Future[R]] = deque()
        for batch in batches:
            pending.append(self._executor.submit(fn, batch))
            if len(pending) >= self.ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
