"""Which Python object holds each Redis type, and what TYPE / OBJECT ENCODING report.

Strings are `bytes`, or `bytearray` once APPEND, SETRANGE or SETBIT edited them in place
(Redis then reports the "raw" encoding), or `EmbstrBytes` (below). Container types register
themselves here from their own modules with `register_type`.

Strategy (string encodings): Redis's encoding of a string depends on how its object was
made, not only on its bytes. Most writers (SET, MSET, APPEND on a new key, GETSET...) pass
the value through tryObjectEncoding, which picks "int" for text that reads as a 64-bit
integer, "embstr" up to 44 bytes and "raw" beyond; that is a function of the bytes, so plain
`bytes` need no mark. Strings edited in place are "raw" whatever they hold: `bytearray`.
INCRBYFLOAT builds its result without tryObjectEncoding, so a result that reads as an
integer ("3") is "embstr" in Redis: such a value is stored as `EmbstrBytes`, a bytes
subclass with no state, made only there. It behaves as bytes everywhere (equality, hashing,
slicing), and COPY, RENAME, MOVE and SWAPDB keep it, as Redis keeps the object.

Code that tests a stored value's exact type must therefore accept three string types:
use `is_string(value)`, or test `type(value) is bytes` first (the hot path) and fall back to
`isinstance(value, (bytes, bytearray))`. Replies should carry plain bytes (`bytes(value)`),
though the RESP encoder also accepts the subclass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeGuard

EMBSTR_SIZE_LIMIT: Final = 44  # OBJ_ENCODING_EMBSTR_SIZE_LIMIT
_LONG_MIN: Final = -(2**63)
_LONG_MAX: Final = 2**63 - 1


class EmbstrBytes(bytes):
    """A string Redis holds as "embstr" although its text reads as an integer: the result of
    INCRBYFLOAT (see the module docstring). Made only when the text would otherwise be
    reported as "int"."""

    __slots__ = ()


_TYPE_NAMES: dict[type, bytes] = {bytes: b"string", bytearray: b"string", EmbstrBytes: b"string"}
_ENCODERS: dict[type, Callable[[Any], bytes]] = {}


def register_type(cls: type, name: bytes, encoding: Callable[[Any], bytes]) -> None:
    """Declare the TYPE name and the OBJECT ENCODING function of a value class."""
    _TYPE_NAMES[cls] = name
    _ENCODERS[cls] = encoding


def type_name(value: Any) -> bytes:
    """The TYPE reply for a stored value."""
    return _TYPE_NAMES[type(value)]


def is_string(value: Any) -> TypeGuard[bytes | bytearray]:
    """Whether a stored value is a string (bytes, bytearray or EmbstrBytes)."""
    t = type(value)
    return t is bytes or t is bytearray or t is EmbstrBytes


def string_encoding(value: bytes | bytearray) -> bytes:
    """Redis 7.0's encoding for a string: int, embstr or raw (tryObjectEncoding)."""
    if isinstance(value, bytearray):
        return b"raw"
    if type(value) is EmbstrBytes:
        return b"embstr"
    if len(value) <= 20 and _looks_like_long(value):
        return b"int"
    return b"embstr" if len(value) <= EMBSTR_SIZE_LIMIT else b"raw"


def float_result(text: bytes) -> bytes:
    """How to store INCRBYFLOAT's result `text`: as EmbstrBytes where plain bytes would be
    reported as "int" (Redis's createStringObject skips tryObjectEncoding)."""
    if len(text) <= 20 and _looks_like_long(text):
        return EmbstrBytes(text)
    return text


def _looks_like_long(value: bytes) -> bool:
    if not value:
        return False
    body = value[1:] if value[0] == 45 else value
    if not body.isdigit() or (body[0] == 48 and len(value) > 1):
        return False
    return _LONG_MIN <= int(value) <= _LONG_MAX


def encoding_name(value: Any) -> bytes:
    """The OBJECT ENCODING reply for a stored value."""
    if is_string(value):
        return string_encoding(value)
    return _ENCODERS[type(value)](value)
