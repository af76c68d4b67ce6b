"""Argument parsing shared by the container SCAN commands (HSCAN, SSCAN; ZSCAN can reuse it).

Redis parses the cursor first, then looks the key up (a missing key answers an empty page
without looking at the options), then parses COUNT and MATCH (db.c scanGenericCommand).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from server.commands.args import int_arg
from server.errors import ERR_INVALID_CURSOR, ERR_SYNTAX, CommandError
from storage.glob import compile_pattern

_ULONG_MAX: Final = 2**64 - 1
_CURSOR = re.compile(rb"([+-]?)([0-9]+)")
_C_SPACE: Final = b" \t\n\v\f\r"

# The reply for a missing key: cursor "0" and no elements (shared.emptyscan).
EMPTY_SCAN: Final = (b"0", ())


def scan_cursor(raw: bytes) -> int:
    """Parse a cursor as Redis does with strtoul: optional sign ("-1" wraps around to
    2**64 - 1), decimal digits, no leading space; an empty string is cursor 0.

    Raises:
        CommandError: "ERR invalid cursor".
    """
    if raw and raw[0] in _C_SPACE:
        raise CommandError(ERR_INVALID_CURSOR)
    # The argument is a C string to strtoul: it ends at the first NUL byte.
    text = raw.split(b"\0", 1)[0]
    if not text:
        return 0
    m = _CURSOR.fullmatch(text)
    if m is None:
        raise CommandError(ERR_INVALID_CURSOR)
    value = int(m.group(2))
    if value > _ULONG_MAX:
        raise CommandError(ERR_INVALID_CURSOR)
    if m.group(1) == b"-":
        value = (_ULONG_MAX + 1 - value) & _ULONG_MAX
    return value


def scan_options(argv: list[bytes], start: int) -> tuple[int, Callable[[bytes], bool] | None]:
    """COUNT and MATCH from argv[start:]; returns (count, matcher or None for "match all").

    Raises:
        CommandError: a bad COUNT number, COUNT < 1, or an unknown or incomplete option.
    """
    count = 10
    matcher: Callable[[bytes], bool] | None = None
    i = start
    n = len(argv)
    while i < n:
        opt = argv[i].upper()
        if opt == b"COUNT" and n - i >= 2:
            count = int_arg(argv[i + 1])
            if count < 1:
                raise CommandError(ERR_SYNTAX)
        elif opt == b"MATCH" and n - i >= 2:
            pattern = argv[i + 1]
            matcher = None if pattern == b"*" else compile_pattern(pattern)
        else:
            raise CommandError(ERR_SYNTAX)
        i += 2
    return count, matcher
