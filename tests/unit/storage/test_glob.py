"""storage.glob against cases whose answers came from a real redis-server's KEYS."""

from __future__ import annotations

import pytest

from storage.glob import compile_pattern, stringmatch


@pytest.mark.parametrize(
    ("pattern", "string", "expected"),
    [
        (b"*", b"anything", True),
        (b"h?llo", b"hello", True),
        (b"h*llo", b"heeeello", True),
        (b"h[ae]llo", b"hallo", True),
        (b"h[^e]llo", b"hello", False),
        (b"h[a-b]llo", b"hbllo", True),
        (b"h[b-a]llo", b"hbllo", True),
        (b"h\\*llo", b"h*llo", True),
        (b"h\\*llo", b"hello", False),
        (b"a[", b"a", False),
        (b"a[b", b"ab", True),
        (b"\\", b"\\", True),
        (b"*a*b", b"xaxb", True),
        (b"*a*b", b"xaxbx", False),
        (b"", b"", True),
        (b"a**", b"abc", True),
    ],
)
def test_glob_cases(pattern: bytes, string: bytes, expected: bool) -> None:
    assert stringmatch(pattern, string) is expected
    assert compile_pattern(pattern)(string) is expected


def test_nocase() -> None:
    assert stringmatch(b"H[A-C]LLO", b"hbllo", nocase=True)
    assert not stringmatch(b"H[A-C]LLO", b"hbllo")
