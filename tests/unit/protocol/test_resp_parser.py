"""The RESP request parser: framing, inline commands, Redis's errors, chunked input."""

from __future__ import annotations

import time

import pytest
from hypothesis import example, given, settings, strategies as st

from protocol.errors import ProtocolError
from protocol.resp import (
    _BIG_COUNT,
    RESPParser,
    _no_big_count,
    encode_command,
    sds_repr,
    split_inline,
)


def read_available(parser: RESPParser, batch: bool) -> list[list[bytes]]:
    """Every complete command, with maybe_next_command or (`batch`) read_commands."""
    out: list[list[bytes]] = []
    if batch:
        while commands := parser.read_commands():
            out.extend(commands)
    else:
        while (argv := parser.maybe_next_command()) is not None:
            out.append(argv)
    return out


def parse_all(data: bytes, chunk: int | None = None, batch: bool = False) -> list[list[bytes]]:
    """Parse `data` fed whole or in pieces of `chunk` bytes."""
    parser = RESPParser()
    out: list[list[bytes]] = []
    pieces = [data] if chunk is None else [data[i : i + chunk] for i in range(0, len(data), chunk)]
    for piece in pieces:
        parser.feed(piece)
        out += read_available(parser, batch)
    return out


def parse_error(data: bytes) -> str:
    with pytest.raises(ProtocolError) as info:
        parse_all(data)
    return info.value.text


WIRE = (
    encode_command([b"SET", b"key", b"value"])
    + b"PING\r\n"
    + encode_command([b"GET", b"key"])
    + b'set "a b" \'c\\\'d\' "\\x41\\n"\r\n'
    + b"*0\r\n"
    + b"*-1\r\n"
    + b"\r\n"
    + encode_command([b"MSET", b"a\r\nb", b"", b"x" * 5000, b"1"])
)
EXPECTED = [
    [b"SET", b"key", b"value"],
    [b"PING"],
    [b"GET", b"key"],
    [b"set", b"a b", b"c'd", b"A\n"],
    [b"MSET", b"a\r\nb", b"", b"x" * 5000, b"1"],
]


@pytest.mark.parametrize("batch", [False, True])
@pytest.mark.parametrize("chunk", [None, 1, 2, 3, 7, 4096])
def test_same_commands_whatever_the_chunking(chunk: int | None, batch: bool) -> None:
    assert parse_all(WIRE, chunk, batch) == EXPECTED


def test_read_commands_takes_every_complete_command_at_once() -> None:
    parser = RESPParser()
    wire = b"".join(encode_command([b"GET", b"k%d" % i]) for i in range(16))
    parser.feed(wire + b"*2\r\n$3\r\nGET\r\n")
    assert parser.read_commands() == [[b"GET", b"k%d" % i] for i in range(16)]
    assert parser.read_commands() == []
    parser.feed(b"$1\r\nx\r\n")
    assert parser.read_commands() == [[b"GET", b"x"]]
    assert parser.read_commands() == []


BIG = [[b"SET", b"k%d" % i, bytes([65 + i]) * (1000 + 37 * i)] for i in range(20)] + [
    [b"SET", b"huge", b"z" * 70_000]
]


@pytest.mark.parametrize("chunk", [None, 999, 8193, 12_000, 65_536])
def test_large_chunks_cut_anywhere(chunk: int | None) -> None:
    wire = b"".join(encode_command(c) for c in BIG)
    assert parse_all(wire, chunk, batch=True) == BIG
    parser = RESPParser()
    parser.feed(wire[:-1])  # ends one byte short of the last frame
    assert parser.read_commands() == BIG[:-1]
    parser.feed(wire[-1:])
    assert parser.read_commands() == BIG[-1:]


@pytest.mark.parametrize("batch", [False, True])
def test_a_chunk_that_ends_inside_a_request_is_told_from_one_that_ends_between(
    batch: bool,
) -> None:
    """hiredis consumes an array's header and whole elements before the request is
    complete, so at every cut the parser must tell where hiredis stopped."""
    request = encode_command([b"SET", b"k", b"vvvv"])

    for cut in range(len(request) + 1):
        parser = RESPParser()
        parser.feed(encode_command([b"PING"]) + request[:cut])
        out = read_available(parser, batch)
        parser.feed(request[cut:])
        out += read_available(parser, batch)
        parser.feed(request)  # the next chunk, from a boundary again
        out += read_available(parser, batch)
        assert out == [[b"PING"], [b"SET", b"k", b"vvvv"], [b"SET", b"k", b"vvvv"]], cut
        assert parser.buffered_bytes() == 0


def test_unread_commands_come_out_first() -> None:
    parser = RESPParser()
    parser.feed(encode_command([b"A"]) + encode_command([b"B"]) + encode_command([b"C"]))
    first, *rest = parser.read_commands()
    assert first == [b"A"]
    parser.unread(rest)
    parser.feed(encode_command([b"D"]))
    assert parser.maybe_next_command() == [b"B"]
    assert parser.read_commands() == [[b"C"]]
    assert parser.read_commands() == [[b"D"]]


def test_need_more_data_is_none_not_an_error() -> None:
    parser = RESPParser()
    parser.feed(b"*2\r\n$3\r\nGET\r\n$3\r\nke")
    assert parser.maybe_next_command() is None
    parser.feed(b"y\r\n")
    assert parser.maybe_next_command() == [b"GET", b"key"]
    assert parser.maybe_next_command() is None


@pytest.mark.parametrize(
    ("wire", "text"),
    [
        (b"*abc\r\n", "Protocol error: invalid multibulk length"),
        (b"*3000000000\r\n", "Protocol error: invalid multibulk length"),
        (b"*01\r\n", "Protocol error: invalid multibulk length"),
        (b"*1\r\nfoo\r\n", "Protocol error: expected '$', got 'f'"),
        (b"*1\r\n+PING\r\n", "Protocol error: expected '$', got '+'"),
        (b"*1\r\n:1\r\n", "Protocol error: expected '$', got ':'"),
        (b"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"),
        (b"*1\r\n$abc\r\n", "Protocol error: invalid bulk length"),
        (b"*1\r\n$600000000\r\n", "Protocol error: invalid bulk length"),
        (b'SET "a b\r\n', "Protocol error: unbalanced quotes in request"),
        (b'SET "a"b\r\n', "Protocol error: unbalanced quotes in request"),
        (b"x" * (64 * 1024 + 1), "Protocol error: too big inline request"),
        (b"*" + b"1" * (64 * 1024 + 1), "Protocol error: too big mbulk count string"),
        (b"*1\r\n$" + b"1" * (64 * 1024 + 1), "Protocol error: too big bulk count string"),
    ],
)
def test_redis_protocol_errors(wire: bytes, text: str) -> None:
    assert parse_error(wire) == text


def test_commands_before_an_error_are_delivered_first() -> None:
    parser = RESPParser()
    parser.feed(encode_command([b"PING"]) + b"*1\r\n+X\r\n")
    assert parser.maybe_next_command() == [b"PING"]
    with pytest.raises(ProtocolError):
        parser.maybe_next_command()


@pytest.mark.parametrize(
    "bad", [b"*1\r\n+X\r\n", b"*1\r\n:1\r\n", b"*x\r\n", b'SET "a\r\n', b"*2\r\n*1\r\n"]
)
def test_read_commands_returns_the_commands_before_an_error_then_raises(bad: bytes) -> None:
    parser = RESPParser()
    parser.feed(encode_command([b"PING"]) + encode_command([b"ECHO", b"x"]) + bad)
    assert parser.read_commands() == [[b"PING"], [b"ECHO", b"x"]]
    with pytest.raises(ProtocolError):
        parser.read_commands()


def test_read_commands_gives_one_command_at_a_time_before_auth() -> None:
    """The next command's limits depend on whether this one authenticates."""
    parser = RESPParser()
    parser.require_auth = True
    parser.feed(encode_command([b"AUTH", b"pw"]) + encode_command([b"SET", b"k", b"x" * 20000]))
    assert parser.read_commands() == [[b"AUTH", b"pw"]]
    parser.require_auth = False
    assert parser.read_commands() == [[b"SET", b"k", b"x" * 20000]]


def test_unauthenticated_limits() -> None:
    parser = RESPParser()
    parser.require_auth = True
    parser.feed(b"*11\r\n")
    with pytest.raises(ProtocolError, match="unauthenticated multibulk length"):
        parser.maybe_next_command()
    parser = RESPParser()
    parser.require_auth = True
    parser.feed(b"*1\r\n$16385\r\n")
    with pytest.raises(ProtocolError, match="unauthenticated bulk length"):
        parser.maybe_next_command()


def test_query_buffer_limit_drops_without_reply() -> None:
    parser = RESPParser(max_buffer_bytes=1024 * 1024)
    parser.feed(b"*1\r\n$2000000\r\n")
    assert parser.maybe_next_command() is None
    parser.feed(b"x" * 500_000)
    parser.feed(b"x" * 500_000)
    with pytest.raises(ProtocolError) as info:
        parser.feed(b"x" * 500_000)
    assert info.value.reply is False


@pytest.mark.parametrize(
    ("line", "args"),
    [
        (b"  a   b  ", [b"a", b"b"]),
        (b'"\\x4a\\x4B" "\\t\\q"', [b"JK", b"\tq"]),
        (b"'it\\'s'", [b"it's"]),
        (b"'a\\nb'", [b"a\\nb"]),
        (b'""', [b""]),
        (b"a\0b c", [b"a"]),
    ],
)
def test_inline_split_matches_sdssplitargs(line: bytes, args: list[bytes]) -> None:
    assert split_inline(line) == args


argv_strategy = st.lists(st.binary(max_size=40), min_size=1, max_size=6)


@given(st.lists(argv_strategy, min_size=1, max_size=8), st.integers(min_value=1, max_value=50))
@settings(max_examples=200, deadline=None)
def test_encode_then_parse_round_trips(commands: list[list[bytes]], chunk: int) -> None:
    wire = b"".join(encode_command(c) for c in commands)
    assert parse_all(wire, chunk) == commands
    assert parse_all(wire) == commands
    assert parse_all(wire, chunk, batch=True) == commands


@given(st.binary(max_size=300), st.integers(min_value=1, max_value=64))
@settings(max_examples=500, deadline=None)
def test_garbage_never_escapes_as_anything_but_protocol_error(data: bytes, chunk: int) -> None:
    """Fast (hiredis) and exact paths agree on garbage: same commands, then the same error."""

    def outcome(
        chunk_size: int | None, batch: bool = False
    ) -> tuple[list[list[bytes]], str | None]:
        parser = RESPParser()
        got: list[list[bytes]] = []
        pieces = (
            [data]
            if chunk_size is None
            else [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]
        )
        try:
            for piece in pieces:
                parser.feed(piece)
                if batch:
                    while commands := parser.read_commands():
                        got.extend(commands)
                else:
                    while (argv := parser.maybe_next_command()) is not None:
                        got.append(argv)
        except ProtocolError as e:
            return got, e.text
        return got, None

    whole = outcome(None)
    split = outcome(chunk)
    # The batch reader delivers exactly what the one-at-a-time reader does.
    assert outcome(None, batch=True) == whole
    assert outcome(chunk, batch=True) == split
    # Chunking may only delay an error past the end of the data, never change what is parsed.
    assert split[0][: len(whole[0])] == whole[0] or whole[1] is not None
    if whole[1] is not None and split[1] is not None:
        assert whole == split


@pytest.mark.parametrize(
    "wire",
    [
        b"*2147483647\r\n$4\r\nPING\r\n",
        b"*1\r\n$4\r\nPING\r\n*2000000000\r\n$3\r\nGET\r\n",
        b"*1000000\r\n$3\r\nGET\r\n",
        # One long request: its header is the chunk's only '*'.
        b"*2147483647\r\n$5000\r\n" + b"x" * 5000 + b"\r\n",
        b"*1\r\n$5000\r\n" + b"x" * 5000 + b"\r\n*2000000000\r\n$3\r\nGET\r\n",
    ],
)
def test_a_huge_declared_count_costs_nothing_until_its_elements_arrive(wire: bytes) -> None:
    # hiredis would allocate the declared array at once, and freeing two billion slots
    # takes seconds: such chunks go to the exact parser, which grows argv as data comes.
    started = time.perf_counter()
    parser = RESPParser()
    parser.feed(wire)
    while parser.maybe_next_command() is not None:
        pass
    assert parser.buffered_bytes() < len(wire)
    del parser
    assert time.perf_counter() - started < 0.5


@settings(max_examples=500)
@given(
    head=st.sampled_from([b"", b"*", b"*1", b"*123456", b"*1234567", b"*0000000", b"*12345678"]),
    body=st.lists(st.sampled_from([b"x", b"*", b"7", b"\r\n", b"x" * 1500, b"*9999999"])),
)
@example(head=b"*1234567", body=[b"x" * 5000])
@example(head=b"*3", body=[b"x" * 5000, b"*1234567"])
def test_the_big_count_check_is_the_regular_expression(head: bytes, body: list[bytes]) -> None:
    data = head + b"".join(body)
    if data:
        assert _no_big_count(data) == (_BIG_COUNT.search(data) is None)


def _outcome(data: bytes, chunk: int | None) -> tuple[list[list[bytes]], str | None]:
    """What read_commands delivers for `data` fed whole or in `chunk`-byte pieces."""
    parser = RESPParser()
    got: list[list[bytes]] = []
    pieces = [data] if chunk is None else [data[i : i + chunk] for i in range(0, len(data), chunk)]
    try:
        for piece in pieces:
            parser.feed(piece)
            while commands := parser.read_commands():
                got.extend(commands)
    except ProtocolError as e:
        return got, e.text
    return got, None


_TRICKY_ARG = st.one_of(
    st.binary(max_size=12),
    st.sampled_from(
        [b"\r\n", b"a\r\nb", b"$3\r\nabc", b"*2", b"\r\n$1\r\n", b"x" * 1100, b"y" * 5000]
    ),
)


@given(
    st.lists(_TRICKY_ARG, min_size=1, max_size=12, unique=True),
    st.sampled_from(["canonical", "zero-padded length", "wrong length", "wrong count", "tail"]),
)
@settings(max_examples=600, deadline=None)
@example([b"SET", b"k", b"v"], "canonical")
@example([b"GET", b"k"], "canonical")
@example([b"HSET", b"h", b"f", b"v"], "canonical")
@example([b"GET", b"a\r\nb"], "canonical")
@example([b"SET", b"k", b"v"], "zero-padded length")
@example([b"PING"], "canonical")
@example([b"MSET", b"a", b"1", b"b", b"2", b"c", b"3"], "canonical")
@example([b"MSET", b"a", b"1", b"b", b"2", b"c", b"3"], "wrong count")
@example([b"MSET", b"a", b"1", b"b", b"2", b"c", b"3"], "zero-padded length")
@example([b"MSET", b"a", b"1\r\n$1", b"b", b"2", b"c", b"3"], "canonical")
def test_a_lone_short_request_reads_as_the_exact_parser_reads_it(
    argv: list[bytes], damage: str
) -> None:
    """A request arriving alone is read without hiredis (RESPParser.lone_request); whatever
    it holds, that must give what the fed readers give, whole or byte by byte."""
    wire = encode_command(argv)
    if damage == "zero-padded length":
        wire = wire.replace(b"\r\n$", b"\r\n$0", 1)
    elif damage == "wrong length":
        wire = wire.replace(b"\r\n$%d\r\n" % len(argv[0]), b"\r\n$%d\r\n" % (len(argv[0]) + 1), 1)
    elif damage == "wrong count":
        wire = b"*%d" % (len(argv) + 1) + wire[wire.index(b"\r\n") :]
    elif damage == "tail":
        wire += b"x"
    whole = _outcome(wire, None)
    assert whole == _outcome(wire, 1)
    if damage == "canonical":
        assert whole == ([argv], None)
    lone = RESPParser().lone_request(wire)
    assert lone is None or whole == ([lone], None)
    if (
        damage == "canonical"
        and len(wire) < 4096
        and not any(b"\r\n" in arg or b"*" in arg for arg in argv)  # these go to hiredis
    ):
        assert lone == argv


def test_lone_request_takes_nothing_and_answers_only_an_idle_parser() -> None:
    get = encode_command([b"GET", b"k"])
    parser = RESPParser()
    assert parser.lone_request(get) == [b"GET", b"k"]
    assert parser.read_commands() == []  # nothing was consumed
    assert parser.lone_request(b"") is None
    assert parser.lone_request(b"GET k\r\n") is None  # inline: the general readers
    assert parser.lone_request(get + get) is None  # two requests
    parser.feed(get[:5])  # part of a request waits
    assert parser.lone_request(get) is None
    parser.feed(get[5:])
    assert parser.read_commands() == [[b"GET", b"k"]]
    parser.unread([[b"SET", b"a", b"b"]])  # a command handed back comes first
    assert parser.lone_request(get) is None
    for attribute in ("require_auth", "from_primary"):  # other limits, other framing
        other = RESPParser()
        setattr(other, attribute, True)
        assert other.lone_request(get) is None


@given(st.text(max_size=40))
@settings(max_examples=200, deadline=None)
def test_sds_repr_reads_back_with_split_inline(text: str) -> None:
    """What CONFIG REWRITE and Sentinel write into a config line reads back unchanged."""
    line = sds_repr(text).encode()
    assert split_inline(line) == [text.encode("utf-8", "surrogateescape")]


@given(st.binary(max_size=40))
@settings(max_examples=200, deadline=None)
def test_sds_repr_of_bytes_reads_back_with_split_inline(data: bytes) -> None:
    """MONITOR shows an argument's bytes this way; any bytes read back unchanged."""
    assert split_inline(sds_repr(data).encode()) == [data]
