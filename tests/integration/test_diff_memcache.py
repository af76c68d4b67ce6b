"""Differential tests: the same memcached scripts against a real memcached 1.6 and Duocache,
raw replies compared byte for byte.

Only what legitimately differs is normalized, field by field: CAS tokens are numbered by first
appearance on each server (`{cN}` in a script sends that server's N-th token back); TTL and
last-access fields may differ by one second; the version string; and in `stats` output the
values of fields that describe the process or memcached's slab/LRU machinery (names and order
are always compared, and every counter a script drives is compared exactly).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest

from tests.memcache_support import (
    RealMemcached,
    Session,
    Step,
    blank_time_fields,
    normalize_cas,
    normalize_stats,
    normalize_version,
    start_real_memcached,
    time_fields,
)
from tests.support import ServerProcess, start_duocache

pytestmark = pytest.mark.integration

Script = Sequence[bytes | Step]


class MemcacheDiff:
    """The same steps on both servers; mismatches are collected and reported together."""

    def __init__(self, ours: int, theirs: int, *, reset: bool = True) -> None:
        self.ours = Session(ours)
        self.theirs = Session(theirs)
        self.mismatches: list[str] = []
        if reset:
            for session in (self.ours, self.theirs):
                session.run(Step(b"flush_all\r\nstats reset\r\n"))

    def close(self) -> None:
        self.ours.close()
        self.theirs.close()

    def check(
        self, step: bytes | Step, stats_exact: Iterable[bytes] | None = None, conns: bool = False
    ) -> None:
        if isinstance(step, bytes):
            step = Step(step)
        ours = normalize_cas(self.ours.run(step), self.ours)
        theirs = normalize_cas(self.theirs.run(step), self.theirs)
        if conns:
            # File descriptors and ports are the process's own; field names and states are not.
            ours, theirs = (re.sub(rb"STAT \d+:", b"STAT fd:", r) for r in (ours, theirs))
            stats_exact = [b"fd:state"]
        ours_times, theirs_times = time_fields(ours), time_fields(theirs)
        close_times = len(ours_times) == len(theirs_times) and all(
            abs(a - b) <= 1 for a, b in zip(ours_times, theirs_times, strict=True)
        )
        ours, theirs = blank_time_fields(ours), blank_time_fields(theirs)
        ours, theirs = normalize_version(ours), normalize_version(theirs)
        if stats_exact is not None:
            exact = list(stats_exact)
            ours, theirs = normalize_stats(ours, exact), normalize_stats(theirs, exact)
        if ours != theirs or not close_times:
            shown = step.data if len(step.data) < 300 else step.data[:300] + b"..."
            self.mismatches.append(
                f"{shown!r}\n    duocache:  {ours!r}\n    memcached: {theirs!r}"
                + ("" if close_times else f"\n    times: {ours_times} vs {theirs_times}")
            )

    def run(self, script: Script) -> None:
        for step in script:
            self.check(step)

    def assert_same(self, script: Script | None = None) -> None:
        if script is not None:
            self.run(script)
        if self.mismatches:
            details = "\n".join(self.mismatches)
            raise AssertionError(
                f"{len(self.mismatches)} replies differ from memcached:\n{details}"
            )


@pytest.fixture(scope="module")
def memcached() -> Iterator[RealMemcached]:
    server = start_real_memcached()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def duocache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_duocache(tmp_path_factory.mktemp("duocache-mc"), memcache=True)
    yield server
    server.stop()


@pytest.fixture
def diff(duocache: ServerProcess, memcached: RealMemcached) -> Iterator[MemcacheDiff]:
    d = MemcacheDiff(duocache.memcache_port, memcached.port)
    yield d
    d.close()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[MemcacheDiff]:
    """A new memcached and a new Duocache, for scripts whose stats depend on the whole past."""
    theirs = start_real_memcached()
    ours = start_duocache(tmp_path, memcache=True)
    d = MemcacheDiff(ours.memcache_port, theirs.port, reset=False)
    yield d
    d.close()
    ours.stop()
    theirs.stop()


# --- classic storage and retrieval ---


def test_set_get_and_friends(diff: MemcacheDiff) -> None:
    diff.assert_same(
        [
            b"set a 0 0 1\r\n1\r\nset b 5 0 3\r\nabc\r\nget a b missing\r\n",
            b"set c 4294967295 0 0\r\n\r\nget c\r\n",
            b"set c 4294967296 0 1\r\nx\r\nget c\r\n",  # flags truncate to 32 bits
            b"add a 0 0 1\r\nx\r\nadd d 1 0 1\r\nd\r\nget d\r\n",
            b"replace missing 0 0 1\r\nx\r\nreplace d 2 0 2\r\ndd\r\nget d\r\n",
            b"append d 9 9 1\r\n+\r\nprepend d 9 9 1\r\n-\r\nget d\r\n",
            b"append missing 0 0 1\r\nx\r\nprepend missing 0 0 1\r\nx\r\n",
            b"set sp 0 0 7\r\na b\r\nc\t\r\nget sp\r\n",
            b"set bin 0 0 256\r\n" + bytes(range(256)) + b"\r\nget bin\r\n",
            b"set t\tab 0 0 1\r\nx\r\nget t\tab\r\n",  # tabs are not separators
            b"get " + b" ".join([b"a", b"b"] * 200) + b"\r\n",
            b"bget a\r\n",
        ]
    )


def test_gets_and_cas(diff: MemcacheDiff) -> None:
    diff.assert_same(
        [
            b"set k 0 0 1\r\na\r\ngets k\r\ngets k\r\n",
            b"cas k 0 0 1 {c1}\r\nb\r\ngets k\r\n",
            b"cas k 0 0 1 {c1}\r\nc\r\n",  # an old token
            b"cas k 0 0 1 0\r\nd\r\n",
            b"cas missing 0 0 1 5\r\nx\r\n",
            b"cas k 0 0 1 {c2} noreply\r\nn\r\ngets k\r\n",
            b"cas k 0 0 1\r\n",
            b"cas k 0 0 1 -5\r\nx\r\n",
            b"set k2 0 0 1\r\nz\r\ngets k k2\r\n",
            b"touch k 100\r\ngets k\r\n",  # touch keeps the token
            b"append k 0 0 1\r\n!\r\ngets k\r\n",
        ]
    )


def test_incr_decr(diff: MemcacheDiff) -> None:
    diff.assert_same(
        [
            b"incr n 1\r\ndecr n 1\r\n",
            b"set n 7 0 2\r\n10\r\nincr n 5\r\ndecr n 100\r\nget n\r\n",
            b"set n 0 0 3\r\n100\r\ndecr n 1\r\nget n\r\nincr n 5\r\nget n\r\n",
            b"set n 0 0 2\r\n99\r\nincr n 1\r\nget n\r\n",
            b"set n 0 0 3\r\n007\r\nget n\r\nincr n 1\r\nget n\r\nmg n v\r\ndecr n 1\r\n",
            b"set n 0 0 3\r\n007\r\nmg n v\r\nincr n 1\r\nget n\r\n",  # mg holds the item
            b"set n 0 0 3\r\n007\r\nmg n\r\nmn\r\nincr n 1\r\nmg n s v\r\nma n v\r\n",
            b"set n 0 0 20\r\n18446744073709551615\r\nincr n 1\r\nget n\r\n",
            b"incr n 18446744073709551615\r\nincr n 18446744073709551616\r\n",
            b"set n 0 0 2\r\nab\r\nincr n 1\r\nset e 0 0 0\r\n\r\nincr e 1\r\n",
            b"set n 0 0 3\r\n 12\r\nincr n 1\r\nget n\r\nset n 0 0 4\r\n12 x\r\nincr n 1\r\n",
            b"set n 0 0 2\r\n-1\r\nincr n 1\r\nincr n -1\r\nincr n abc\r\n",
            b"set n 0 0 1\r\n5\r\nincr n 1 noreply\r\ndecr n 1 noreply\r\nget n\r\n",
            b"incr n\r\nincr\r\nincr n 1 2 3\r\n",
        ]
    )


def test_delete_touch_gat(diff: MemcacheDiff) -> None:
    diff.assert_same(
        [
            b"delete k\r\nset k 0 0 1\r\nx\r\ndelete k\r\ndelete k\r\n",
            b"set k 0 0 1\r\nx\r\ndelete k 0\r\nset k 0 0 1\r\nx\r\ndelete k noreply\r\n",
            b"delete k 1\r\ndelete k x noreply\r\ndelete k 0 noreply\r\ndelete\r\n",
            b"touch k 10\r\nset k 3 0 1\r\nx\r\ntouch k 10\r\ntouch k x\r\ntouch k\r\n",
            b"touch k 0 noreply\r\nmg k t\r\n",
            b"gat 100 k missing k\r\ngats 0 k\r\nmg k t\r\ngat x k\r\ngat 10\r\n",
            b"touch k -1\r\nget k\r\nset k 0 0 1\r\nx\r\ngat -1 k\r\nget k\r\n",
        ]
    )


def test_exptime_forms(diff: MemcacheDiff) -> None:
    diff.assert_same(
        [
            b"set k 0 -1 1\r\nx\r\nget k\r\nadd k 0 -1 1\r\nx\r\nget k\r\n",
            b"set k 0 2592001 1\r\nx\r\nget k\r\n",  # 30 days + 1 s: a unix time in 1970
            b"set k 0 2592000 1\r\nx\r\nmg k t\r\n",  # 30 days: relative
            b"set k 0 4102444800 1\r\nx\r\nmg k v\r\n",  # a unix time in 2100
            b"set k 0 4294967296 1\r\nx\r\nmg k t\r\n",  # int32: wraps to 0
            b"set k 0 2147483648 1\r\nx\r\nget k\r\n",  # int32: wraps negative
            b"set k 0 100 1\r\nx\r\nmg k t\r\nset k 0 -1 1\r\ny\r\nget k\r\n",
        ]
    )


def test_writes_of_only_gets_and_plain_sets(diff: MemcacheDiff) -> None:
    """A get or plain set alone in a write, or a write of only those, is read in one pass
    (MemcacheParser.lone_request and plain_run), not through the parser's rounds."""
    diff.assert_same(
        [
            Step(b"set a 1024 1024 3\r\nabc\r\n", until=b"STORED\r\n"),
            Step(b"get a\r\n", until=b"END\r\n"),
            Step(
                b"set b 0 0 2 noreply\r\nxy\r\nset c 7 0 1 noreply\r\nzXYset d 1 0 1\r\nd\r\n"
                b"set e 0 0 1 noreplY\r\ne\r\nget a b c d e\r\n",
                until=b"END\r\n",
            ),
            Step(b"set f 0 0 2000\r\n" + b"f" * 2000 + b"\r\n", until=b"STORED\r\n"),
            Step(b"get f x\r\nget a\r\n", until=b"VALUE a 1024 3\r\nabc\r\nEND\r\n"),
        ]
    )


def test_noreply_everywhere(diff: MemcacheDiff) -> None:
    diff.assert_same(
        [
            b"set k 0 0 1 noreply\r\nx\r\nadd k 0 0 1 noreply\r\ny\r\n",
            b"replace k 0 0 1 noreply\r\nz\r\nappend k 0 0 1 noreply\r\n!\r\n",
            b"prepend k 0 0 1 noreply\r\n<\r\nget k\r\n",
            b"set n 0 0 1 noreply\r\n1\r\nincr n 1 noreply\r\ndecr n 1 noreply\r\n",
            b"touch n 10 noreply\r\ndelete n noreply\r\ndelete n noreply\r\n",
            b"flush_all noreply\r\nflush_all 0 noreply\r\nverbosity 1 noreply\r\n",
            b"set k abc 0 1 noreply\r\nx\r\n",  # the error is not sent; "x" is a command
            b"set k 0 0 1 noreply\r\nxy\r\n",  # bad data chunk, not sent
            b"incr k abc noreply\r\ntouch k x noreply\r\nverbosity noreply\r\n",
        ]
    )


# --- errors ---


def test_errors(diff: MemcacheDiff) -> None:
    diff.assert_same(
        [
            b"\r\n",
            b"\n",
            b"bogus\r\nGET k\r\nSET k 0 0 1\r\nmx k\r\nsett k\r\ngx\r\n",
            b"get\r\ngets\r\nset k 0 0\r\nset k 0 0 1 noreply extra\r\nadd\r\n",
            b"set k abc 0 1\r\nx\r\n",
            b"set k 0 abc 1\r\nx\r\n",
            b"set k 0 0 abc\r\nx\r\n",
            b"set k 0 0 -1\r\nx\r\n",
            b"set k -1 0 1\r\nx\r\n",
            b"set k 0 0 1\r\nxyz\r\nget k\r\n",  # bad data chunk, then the rest parses
            b"set k 0 0 3\r\nab\r\n\r\n",
            b"set " + b"k" * 250 + b" 0 0 1\r\nx\r\nget " + b"k" * 250 + b"\r\n",
            b"set " + b"k" * 251 + b" 0 0 1\r\nx\r\n",
            b"get " + b"k" * 251 + b"\r\n",
            b"set a 0 0 1\r\n1\r\nget a " + b"k" * 251 + b" a\r\n",  # discards earlier replies
            b"get a\r\nset b 0 0 1\r\n2\r\nget " + b"k" * 251 + b"\r\n",  # not a get's
            b"set k 0 0 1 a b c d e f g h i j k l m n o p q r s t u v w\r\nx\r\n",
            b"get nul\x00zzz\r\nset nul 0 0 1\r\nx\r\nget n\x00ul\r\n",
            b"verbosity\r\nverbosity x\r\nverbosity 1 2 3\r\n",
            b"flush_all x\r\nflush_all 1 2 3\r\n",
            b"shutdown\r\nshutdown graceful\r\n",
            b"slabs automove 1\r\nlru_crawler sleep 10\r\n" if False else b"mn\r\n",
        ]
    )


def test_item_too_large(diff: MemcacheDiff) -> None:
    limit = 1024 * 1024
    fits = limit - (48 + 3 + 2 + 8)  # a one-byte key, no flags
    diff.assert_same(
        [
            b"set k 0 0 1\r\nx\r\nset k 0 0 %d\r\n" % (limit + 100)
            + b"y" * (limit + 100)
            + b"\r\nget k\r\n",
            b"set k 0 0 1\r\nx\r\nadd k 0 0 %d noreply\r\n" % (limit + 100)
            + b"y" * (limit + 100)
            + b"\r\nget k\r\n",
            b"set b 0 0 %d\r\n" % fits + b"y" * fits + b"\r\nmg b s\r\n",
            b"set b 0 0 %d\r\n" % (fits + 1) + b"y" * (fits + 1) + b"\r\nmg b s\r\n",
            b"set b 1 0 %d\r\n" % (fits - 3) + b"y" * (fits - 3) + b"\r\nmg b s f\r\n",
            b"set b 1 0 %d\r\n" % (fits - 4) + b"y" * (fits - 4) + b"\r\nmg b s f\r\n",
            b"append b 0 0 10\r\n" + b"z" * 10 + b"\r\nmg b s\r\n",
            b"set k 0 0 1\r\nx\r\nms k %d T0\r\n" % (limit + 1) + b"y" * (limit + 1) + b"\r\n",
            b"get k\r\n",
        ]
    )


def test_long_lines_and_closing(diff: MemcacheDiff) -> None:
    diff.assert_same(
        [
            b"set a 0 0 1\r\n1\r\nget a\r\n",
            Step(b"x" * 3000, closes=True),  # no newline past 2048 bytes: closed
            b"get a\r\n",
            Step(b"set " + b"k" * 20000 + b" 0 0 1\r\n", closes=True),
            b"set " + b"k" * 2100 + b" 0 0 1\r\nx\r\n",  # arrived whole: parsed, refused
            b"get " + b" ".join([b"a"] * 3000) + b"\r\n",  # multi-gets may be long
            Step(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", closes=True),
            Step(b"get a\r\nquit\r\nget a\r\n", closes=True),
            Step(b"quit extra\r\n", closes=True),
            b"version\r\nverbosity 1\r\nverbosity 5\r\n",
        ]
    )


def test_stats_reset_and_unknown_subcommands(diff: MemcacheDiff) -> None:
    diff.assert_same(
        [
            b"stats reset\r\nstats bogus\r\nstats sizes\r\nstats detail\r\n",
            b"stats detail dump\r\nstats cachedump\r\nstats cachedump x 1\r\n",
            b"stats cachedump 64 0\r\nstats extstore\r\n",
        ]
    )


# --- meta commands ---


def test_meta_get(diff: MemcacheDiff) -> None:
    diff.assert_same(
        [
            b"mg missing\r\nmg missing v\r\nmg missing Oabc k v\r\nmg missing q k\r\n",
            b"ms k 2 T0 F5\r\nhi\r\nmg k\r\nmg k v\r\nmg k s v f t k Oq c\r\n",
            b"mg k h l\r\nmg k h l\r\nmg k h l u\r\n",
            b"mg k vv\r\nmg k v v\r\nmg k z\r\nmg k Pxx Lyy v\r\n",
            b"mg k E5 v\r\nms k 1 E99\r\nx\r\nmd k E5\r\nma k E5\r\n",  # no E in 1.6.18
            b"mg k t T100 t\r\nmg k t\r\nmg k T-1 v\r\nmg k v\r\n",
            b"mg " + b"k" * 251 + b"\r\nmg\r\n",
            b"mg k " + b" ".join([b"O%d" % i for i in range(17)]) + b"\r\n",
            b"mg k " + b" ".join([b"O%d" % i for i in range(18)]) + b"\r\n",
            b"ms k 1\r\nx\r\nmg k O" + b"x" * 33 + b"\r\nmg nope O" + b"x" * 40 + b"\r\n",
            b"mg k Tx\r\nmg k N\r\nmg k Rz\r\nmg k C-1\r\nmg k MSS\r\nmg k Jx Dx\r\n",
            b"mg k q v\r\nmg nope q v\r\nmg nope q k Oo\r\n",
        ]
    )


def test_meta_base64_keys(diff: MemcacheDiff) -> None:
    diff.assert_same(
        [
            b"ms azE= 2 b k\r\nab\r\nmg azE= b k v\r\nmg k1 k v\r\n",
            b"mg !!!! b\r\nmg azE b\r\nmg nope= b k\r\n",
            b"me azE= b\r\nme k1\r\nme !!!! b\r\n",
            b"md azE= b k\r\nmg k1 v\r\n",
            b"ma Y250 b N0 J7 v k\r\nget c\xbat\r\n",
        ]
    )


def test_meta_set(diff: MemcacheDiff) -> None:
    diff.assert_same(
        [
            b"ms k 2\r\nhi\r\nms k 2 c k Oxy\r\nho\r\nmg k v c f t\r\n",
            b"ms k 2 F7 T100\r\nab\r\nmg k f t v\r\nget k\r\n",
            b"ms k 2 MR\r\ncd\r\nms nope 2 MR\r\ncd\r\nms k 2 ME\r\nef\r\nms new 2 ME\r\nef\r\n",
            b"ms k 2 MA\r\ngh\r\nms k 2 MP\r\nij\r\nms k 2 MS\r\nkl\r\nmg k v\r\n",
            b"ms nope 2 MA\r\nx\r\nms nope 2 MP\r\nxy\r\n",
            b"ms k 2 MX\r\nab\r\nms k 2 MEE\r\nab\r\nms k 2 z\r\nab\r\nms k 2 T1 T2\r\nab\r\n",
            b"ms k 2 Fabc\r\nab\r\nms k 2 Tabc Fabc\r\nab\r\nms k 2 C-5\r\nab\r\n",
            b"ms k S2\r\nab\r\nms k\r\nms\r\nms k -1\r\nx\r\nms k 2 O" + b"x" * 40 + b"\r\nab\r\n",
            b"ms k 2 q\r\nab\r\nms k 2 q ME\r\ncd\r\nms k 2 q\r\nabc\r\n",
            b"ms k 2 T-1\r\nab\r\nmg k\r\nms k 2 F4294967296 c\r\nab\r\nmg k f\r\n",
            b"ms k 1 c\r\na\r\nms k 1 C{c1} c\r\nb\r\nms k 1 C{c1}\r\nc\r\nms nope 1 C5\r\nd\r\n",
            b"ms k 1 C{c2} MA\r\n!\r\nmg k v\r\nms k 1 C1 MP\r\n?\r\nms k 1 C0\r\nz\r\n",
        ]
    )


def test_meta_delete(diff: MemcacheDiff) -> None:
    diff.assert_same(
        [
            b"md nope\r\nmd nope q Oab k\r\n",
            b"ms k 1\r\na\r\nmd k C999 Oq\r\nmd k Oq k q\r\nmg k\r\nmd k\r\n",
            b"ms k 1 c\r\na\r\n",
            b"md k C{c1} k\r\nmg k\r\n",
            b"md k z\r\nmd k q q\r\nmd k O" + b"x" * 40 + b"\r\nmd\r\nmd " + b"k" * 251 + b"\r\n",
        ]
    )


def test_meta_arithmetic(diff: MemcacheDiff) -> None:
    diff.assert_same(
        [
            b"ma n\r\nma n q\r\nma n Oo k\r\n",
            b"ma n N0 J10 v\r\nma n v D5\r\nma n MD D100 v t\r\nma n M+ v\r\nma n M- v\r\n",
            b"ma n MI D3 v c t k Oz\r\nma n q D2\r\nmg n v\r\n",
            b"ma n MX\r\nma n Jx\r\nma n Dx\r\nma n D-1\r\nma n T30 t v\r\n",
            b"ma m N30 J5 t v\r\nma m t\r\n",
            b"set s 0 0 1\r\nx\r\nma s\r\nma s q\r\n",
            b"set n 0 0 1\r\n9\r\nma n T30 v t\r\nmg n t\r\n",  # grew: the TTL is not set
            b"set n 0 0 20\r\n18446744073709551615\r\nma n v\r\n",
            b"ma n c\r\nma n C{c1} v\r\nma n C{c1} v\r\nma n C0 v\r\n",
            b"ma n O" + b"x" * 40 + b" v\r\nmg n v\r\n",  # the change stands, the reply fails
        ]
    )


def test_meta_debug_and_noop(diff: MemcacheDiff) -> None:
    diff.assert_same(
        [
            b"me k\r\nset k 5 100 3\r\nabc\r\nme k\r\nget k\r\nme k\r\n",
            b"me\r\nme " + b"k" * 251 + b"\r\nme k extra tokens\r\n",
            b"mn\r\nmn extra\r\n",
            b"mg nope q\r\nmg nope q\r\nmn\r\n",
        ]
    )


def test_stampede_protection(diff: MemcacheDiff) -> None:
    diff.assert_same(
        [
            b"mg v N30 s t c v\r\nmg v N30 s t v\r\nmg v s t v\r\n",
            b"ms v 3 T60\r\nnew\r\nmg v N30 v\r\n",
            b"ms r 1 T10\r\na\r\nmg r R30 v c\r\nmg r R30 v\r\nmg r R5 v\r\n",
            b"ms s 1 T100 c\r\na\r\nmd s I T30\r\nmg s c t v\r\nmg s c t v\r\nmg s\r\n",
            b"ms s 1 C{c1} I\r\nb\r\nmg s v c\r\nms s 1 I\r\nc\r\nmg s v\r\n",
            b"ms w 1\r\na\r\nmd w I q\r\nmg w v\r\nmg w v\r\nmd w I\r\nmg w v\r\n",
        ]
    )


# --- stats, on servers that have seen nothing else ---

GENERAL_EXACT = [
    b"version",
    b"pointer_size",
    b"cmd_get",
    b"cmd_set",
    b"cmd_flush",
    b"cmd_touch",
    b"cmd_meta",
    b"get_hits",
    b"get_misses",
    b"get_expired",
    b"delete_misses",
    b"delete_hits",
    b"incr_misses",
    b"incr_hits",
    b"decr_misses",
    b"decr_hits",
    b"cas_misses",
    b"cas_hits",
    b"cas_badval",
    b"touch_hits",
    b"touch_misses",
    b"store_too_large",
    b"store_no_memory",
    b"auth_cmds",
    b"auth_errors",
    b"accepting_conns",
    b"threads",
    b"conn_yields",
    b"hash_power_level",
    b"hash_bytes",
    b"hash_is_expanding",
    b"malloc_fails",
    b"bytes",
    b"curr_items",
    b"total_items",
    b"evictions",
    b"reclaimed",
]
# Settings that describe Duocache's own configuration where memcached shows its defaults.
SETTINGS_DIFFERENT = {
    b"maxbytes",
    b"maxconns",
    b"tcpport",
    b"evictions",
    b"oldest",
    b"tcp_backlog",
    b"binding_protocol",
    b"hash_algorithm",
}
ITEMS_EXACT = [
    b"items:%d:%b" % (c, n) for c in (1, 4, 12, 19) for n in (b"number", b"mem_requested")
]
SLAB_FIELDS = (
    *(b"chunk_size", b"chunks_per_page", b"used_chunks", b"get_hits", b"cmd_set"),
    *(b"delete_hits", b"incr_hits", b"decr_hits", b"cas_hits", b"cas_badval", b"touch_hits"),
)
SLABS_EXACT = [b"%d:%b" % (c, n) for c in (1, 4, 12, 19) for n in SLAB_FIELDS]


def _settings_names() -> list[bytes]:
    from server.memcache_stats import _settings
    from tests.memcache_support import MemcacheRunner

    ctx = MemcacheRunner().ctx
    return [line.split(b" ")[1] for line in _settings(ctx)]


def test_stats_after_a_workload(fresh: MemcacheDiff) -> None:
    fresh.run(
        [
            b"set a 0 0 1\r\n1\r\nset b 5 0 100\r\n" + b"b" * 100 + b"\r\n",
            b"set c 0 0 1000\r\n" + b"c" * 1000 + b"\r\nset d 0 0 5000\r\n" + b"d" * 5000 + b"\r\n",
            b"get a b nope\r\ngets c\r\ndelete nope\r\ndelete d\r\n",
            b"incr a 5\r\nincr nope 1\r\ndecr a 1\r\ndecr nope 1\r\n",
            b"cas a 0 0 1 1\r\nx\r\ncas nope 0 0 1 1\r\nx\r\n",
            b"touch a 100\r\ntouch nope 100\r\ngat 100 b nope\r\n",
            b"mg a v\r\nmg nope v\r\nme a\r\nms e 1\r\ne\r\nma n N0 J1\r\n",
            b"set big 0 0 2000000\r\n" + b"x" * 2000000 + b"\r\n",
        ]
    )
    fresh.check(b"stats\r\n", stats_exact=GENERAL_EXACT)
    settings_exact = [name for name in _settings_names() if name not in SETTINGS_DIFFERENT]
    fresh.check(b"stats settings\r\n", stats_exact=settings_exact)
    fresh.check(b"stats items\r\n", stats_exact=ITEMS_EXACT)
    fresh.check(b"stats slabs\r\n", stats_exact=SLABS_EXACT)
    fresh.check(b"stats conns\r\n", conns=True)
    fresh.check(b"stats reset\r\nstats\r\n", stats_exact=GENERAL_EXACT)
    fresh.assert_same()


# --- authentication: memcached -Y against requirepass ---


@pytest.fixture
def authenticating(tmp_path: Path) -> Iterator[MemcacheDiff]:
    authfile = tmp_path / "authfile"
    authfile.write_text("default:secret\n")
    theirs = start_real_memcached("-Y", str(authfile))
    (tmp_path / "duo").mkdir()
    ours = start_duocache(tmp_path / "duo", "--requirepass", "secret", memcache=True)
    d = MemcacheDiff(ours.memcache_port, theirs.port, reset=False)
    yield d
    d.close()
    ours.stop()
    theirs.stop()


def test_ascii_authentication(authenticating: MemcacheDiff) -> None:
    line = b"\r\n"  # before authenticating, one reply per batch and no mn
    authenticating.assert_same(
        [
            Step(b"get k\r\n", until=line),
            Step(b"mn\r\n", until=line),
            Step(b"set k 0 0 1\r\nx\r\n", until=line),
            Step(b"set k 0 0 14\r\ndefault wrong!\r\nget k\r\n", until=line),
            Step(b"set k 0 0 7\r\ndefault\r\n", until=line),
            Step(b"set k 0 0 3\r\nabcde\r\n", until=line),
            Step(b"set a b c x\r\n", until=line),
            Step(b"set k 0 0 13\r\nnobody secret\r\n", until=line),
            Step(b"set k 0 0 20\r\ndefault secret extra\r\n", until=line),
            b"get k\r\nset k 0 0 1\r\nx\r\nget k\r\n",
            b"stats reset\r\n",
        ]
    )
