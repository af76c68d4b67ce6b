"""Args: a cursor over argv[1:] that gathers the argument-parsing rules in one place.

Matching of option tokens is case-insensitive; values are never case-folded. The first
problem raises `CommandError` with Redis's text.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TypeVar

from protocol.numbers import parse_float, parse_int
from server.errors import ERR_NOT_FLOAT, ERR_NOT_INTEGER, ERR_SYNTAX, CommandError

T = TypeVar("T")
U = TypeVar("U")


def int_arg(raw: bytes, error: str = ERR_NOT_INTEGER) -> int:
    """Parse an integer argument like Redis's getLongLongFromObject."""
    value = parse_int(raw)
    if value is None:
        raise CommandError(error)
    return value


def float_arg(raw: bytes, error: str = ERR_NOT_FLOAT) -> float:
    """Parse a float argument like Redis's getDoubleFromObject (no NaN)."""
    value = parse_float(raw)
    if value is None:
        raise CommandError(error)
    return value


class Args:
    """A cursor over a command's arguments (argv without the name by default)."""

    __slots__ = ("argv", "pos")

    def __init__(self, argv: list[bytes], start: int = 1) -> None:
        self.argv = argv
        self.pos = start

    def __len__(self) -> int:
        """Arguments left."""
        return len(self.argv) - self.pos

    def has_more(self) -> bool:
        return self.pos < len(self.argv)

    def peek(self) -> bytes | None:
        return self.argv[self.pos] if self.pos < len(self.argv) else None

    def peek_upper(self) -> bytes:
        return self.argv[self.pos].upper() if self.pos < len(self.argv) else b""

    def next(self, error: str = ERR_SYNTAX) -> bytes:
        if self.pos >= len(self.argv):
            raise CommandError(error)
        value = self.argv[self.pos]
        self.pos += 1
        return value

    def next_upper(self) -> bytes:
        return self.next().upper()

    def next_int(self, error: str = ERR_NOT_INTEGER) -> int:
        return int_arg(self.next(), error)

    def next_float(self, error: str = ERR_NOT_FLOAT) -> float:
        return float_arg(self.next(), error)

    def flag(self, token: bytes) -> bool:
        """Consume `token` (case-insensitive) if it comes next."""
        if self.pos < len(self.argv) and self.argv[self.pos].upper() == token:
            self.pos += 1
            return True
        return False

    def one_of(self, *tokens: bytes) -> bytes | None:
        """Consume and return the next argument if it is one of `tokens` (upper-cased)."""
        if self.pos < len(self.argv):
            word = self.argv[self.pos].upper()
            if word in tokens:
                self.pos += 1
                return word
        return None

    def options(self, tokens: Collection[bytes]) -> set[bytes]:
        """Consume consecutive option tokens from `tokens`; return those seen."""
        seen: set[bytes] = set()
        while self.pos < len(self.argv):
            word = self.argv[self.pos].upper()
            if word not in tokens:
                break
            seen.add(word)
            self.pos += 1
        return seen

    def pairs(self, first: Callable[[bytes], T], second: Callable[[bytes], U]) -> list[tuple[T, U]]:
        """Consume the rest as pairs; an odd count is a syntax error."""
        rest = self.argv[self.pos :]
        if not rest or len(rest) % 2:
            raise CommandError(ERR_SYNTAX)
        self.pos = len(self.argv)
        return [(first(rest[i]), second(rest[i + 1])) for i in range(0, len(rest), 2)]

    def rest(self) -> list[bytes]:
        rest = self.argv[self.pos :]
        self.pos = len(self.argv)
        return rest

    def done(self) -> None:
        """Raise ERR syntax error if anything is left."""
        if self.pos < len(self.argv):
            raise CommandError(ERR_SYNTAX)
