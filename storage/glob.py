"""Redis's glob-style matching (stringmatchlen in util.c), for KEYS, SCAN MATCH, PSUBSCRIBE,
CONFIG GET and friends.

Semantics copied from Redis, quirks included: `*`, `?`, `[...]` with `^` negation, ranges in
either order and `\\` escapes, an unterminated `[` that matches its remaining characters, and
a trailing lone `\\` that matches itself. Matching is on bytes.
"""

from __future__ import annotations

from functools import lru_cache


def _class_matches(pattern: bytes, p: int, c: int, nocase: bool) -> tuple[bool, int]:
    """Match byte `c` against the class starting after '[' at `p`; return (match, end index).

    The end index points at the class's closing ']' (or the last pattern byte when the class
    is unterminated), mirroring where Redis's loop leaves its pattern pointer.
    """
    n = len(pattern)
    negate = p < n and pattern[p] == 94  # '^'
    if negate:
        p += 1
    match = False
    while True:
        if p < n and pattern[p] == 92 and n - p >= 2:  # '\\' escape
            p += 1
            if pattern[p] == c:
                match = True
        elif p < n and pattern[p] == 93:  # ']'
            break
        elif p >= n:
            p -= 1
            break
        elif n - p >= 3 and pattern[p + 1] == 45:  # a-z
            start, end, ch = pattern[p], pattern[p + 2], c
            if start > end:
                start, end = end, start
            if nocase:
                start, end, ch = _lower(start), _lower(end), _lower(ch)
            p += 2
            if start <= ch <= end:
                match = True
        elif pattern[p] == c or (nocase and _lower(pattern[p]) == _lower(c)):
            match = True
        p += 1
    return (not match) if negate else match, p


def _lower(c: int) -> int:
    return c + 32 if 65 <= c <= 90 else c


def stringmatch(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    """True when `string` matches the glob `pattern` as Redis's stringmatchlen decides."""
    n, m = len(pattern), len(string)
    p = s = 0
    # Backtracking point: the pattern index after the last '*' and the string index it
    # currently absorbs up to. Redis's skipLongerMatches makes one backtrack point enough.
    star_p = star_s = -1
    while True:
        if s < m and p < n:
            c = pattern[p]
            if c == 42:  # '*'
                while p + 1 < n and pattern[p + 1] == 42:
                    p += 1
                if p == n - 1:
                    return True
                star_p, star_s = p + 1, s
                p += 1
                continue
            ok = True
            if c == 63:  # '?'
                pass
            elif c == 91:  # '['
                ok, p = _class_matches(pattern, p + 1, string[s], nocase)
            else:
                if c == 92 and n - p >= 2:  # '\\'
                    p += 1
                    c = pattern[p]
                d = string[s]
                ok = c == d or (nocase and _lower(c) == _lower(d))
            if ok:
                p += 1
                s += 1
                if s == m:
                    while p < n and pattern[p] == 42:
                        p += 1
                    if p == n:
                        return True
                    # The string is used up but the pattern is not.
                    ok = False
            if ok:
                continue
        elif p == n and s == m:
            return True
        # Mismatch: let the last '*' absorb one more byte, if it can.
        if star_p < 0 or star_s + 1 >= m:
            return False
        star_s += 1
        p, s = star_p, star_s


@lru_cache(maxsize=256)
def compile_pattern(pattern: bytes, nocase: bool = False) -> _Matcher:
    """A reusable matcher; "*" and plain literals take shortcuts."""
    return _Matcher(pattern, nocase)


class _Matcher:
    __slots__ = ("literal", "match_all", "nocase", "pattern")

    def __init__(self, pattern: bytes, nocase: bool) -> None:
        self.pattern = pattern
        self.nocase = nocase
        self.match_all = pattern.strip(b"*") == b"" and pattern != b""
        special = any(ch in pattern for ch in b"*?[\\")
        self.literal = None if special or nocase else pattern

    def __call__(self, string: bytes) -> bool:
        if self.match_all:
            return True
        if self.literal is not None:
            return string == self.literal
        return stringmatch(self.pattern, string, self.nocase)
