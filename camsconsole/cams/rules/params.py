"""Reading parameters the way they arrive.

The console's forms pass Python values; the sandbox passes what it decoded from the query string,
where every scalar is a string (the Python SDK even writes booleans as ``True``/``False``) and every
nested parameter is one compact JSON string (reference §2.3). These helpers accept both.
"""

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from camsconsole.cams.rules.codes import RuleError, missing

_INTEGER = re.compile(r"[+-]?[0-9]+")
_BOOLEANS = {"true": True, "false": False}


def is_blank(value: Any) -> bool:
    """Absent for the API: missing, empty, or only whitespace."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, Mapping | Sequence):
        return len(value) == 0
    return False


def is_absent(value: Any) -> bool:
    """Not given as a top-level parameter. On the wire a nested parameter is JSON text, so an
    empty list or object was given (as ``[]`` or ``{}``), unlike a missing or blank value."""
    return value is None or (isinstance(value, str) and not value.strip())


def is_set(value: Any) -> bool:
    """Given a meaningful value. The SDK emits ``[]`` for unset lists and the seeds' own examples
    carry ``"caption": ""``, so neither counts as setting a field; nor does ``false``."""
    return not is_blank(value) and value is not False


def _decoded(value: Any) -> Any:
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def as_object(value: Any) -> Mapping[str, Any] | None:
    """A JSON object given as a mapping or as JSON text; None if it is neither."""
    value = _decoded(value)
    return value if isinstance(value, Mapping) else None


def as_array(value: Any) -> list[Any] | None:
    """A JSON array given as a list/tuple or as JSON text; None if it is neither."""
    value = _decoded(value)
    return list(value) if isinstance(value, list | tuple) else None


def as_int(value: Any) -> int | None:
    """An integer given as int or as decimal text; None otherwise (booleans are not integers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    return None


def as_bool(value: Any) -> bool | None:
    """A boolean given as bool or as ``true``/``false`` text in any case; None otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _BOOLEANS.get(value.strip().lower())
    return None


def is_scalar(value: Any) -> bool:
    """A value that serialises as a JSON string, number or boolean."""
    return isinstance(value, str | int | float)


def text_of(value: Any) -> str:
    """A scalar parameter as text ("" when absent); ids may arrive as numbers from a form."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def join(prefix: str, name: str) -> str:
    """The path of ``name`` under ``prefix`` (``SenderList[3]`` + ``To``)."""
    return f"{prefix}.{name}" if prefix else name


def missing_params(params: Mapping[str, Any], names: Sequence[str]) -> Iterator[RuleError]:
    """The gateway's errors for required parameters that are absent, in the order given."""
    for name in names:
        if is_absent(params.get(name)):
            yield missing(name)
