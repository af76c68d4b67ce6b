"""Which Python object holds each Redis type, and what TYPE / OBJECT ENCODING report.

Strings are `bytes`, or `bytearray` once APPEND, SETRANGE or SETBIT edited them in place
(Redis then reports the "raw" encoding). Container types register themselves here from their
own modules with `register_type`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

EMBSTR_SIZE_LIMIT: Final = 44  # OBJ_ENCODING_EMBSTR_SIZE_LIMIT
_LONG_MIN: Final = -(2**63)
_LONG_MAX: Final = 2**63 - 1

_TYPE_NAMES: dict[type, bytes] = {bytes: b"string", bytearray: b"string"}
_ENCODERS: dict[type, Callable[[Any], bytes]] = {}


def register_type(cls: type, name: bytes, encoding: Callable[[Any], bytes]) -> None:
    """Declare the TYPE name and the OBJECT ENCODING function of a value class."""
    _TYPE_NAMES[cls] = name
    _ENCODERS[cls] = encoding


def type_name(value: Any) -> bytes:
    """The TYPE reply for a stored value."""
    return _TYPE_NAMES[type(value)]


def is_string(value: Any) -> bool:
    return type(value) is bytes or type(value) is bytearray


def string_encoding(value: bytes | bytearray) -> bytes:
    """Redis 7.0's encoding for a string: int, embstr or raw (tryObjectEncoding)."""
    if isinstance(value, bytearray):
        return b"raw"
    if len(value) <= 20 and _looks_like_long(value):
        return b"int"
    return b"embstr" if len(value) <= EMBSTR_SIZE_LIMIT else b"raw"


def _looks_like_long(value: bytes) -> bool:
    if not value:
        return False
    body = value[1:] if value[0] == 45 else value
    if not body.isdigit() or (body[0] == 48 and len(value) > 1):
        return False
    return _LONG_MIN <= int(value) <= _LONG_MAX


def encoding_name(value: Any) -> bytes:
    """The OBJECT ENCODING reply for a stored value."""
    if type(value) is bytes or type(value) is bytearray:
        return string_encoding(value)
    return _ENCODERS[type(value)](value)
