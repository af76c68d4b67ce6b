"""The memcached text-protocol parser: every command, every meta flag, framing, bad lines."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings, strategies as st

from protocol.memcache import (
    ERR_BAD_FORMAT,
    ERR_BAD_TOKEN,
    ERR_DECODING_KEY,
    ERR_DELETE_USAGE,
    ERR_DELTA_VALUE,
    ERR_DUPLICATE_FLAG,
    ERR_FLAGS_TOO_LONG,
    ERR_FLAGS_TOO_LONG_MG,
    ERR_INITIAL_VALUE,
    ERR_INVALID_DELTA,
    ERR_INVALID_EXPTIME,
    ERR_INVALID_FLAG,
    ERR_INVALID_OR_DUPLICATE_FLAG,
    ERR_M_TOKEN_LENGTH,
    ERR_MA_MODE,
    ERR_MS_MODE,
    ERR_OPAQUE_TOO_LONG,
    ERROR,
    Auth,
    Close,
    Command,
    ErrorReply,
    MemcacheParser,
    MemcacheRequest,
    Meta,
    MetaFlags,
    PlainRequest,
    PlainSet,
    Retrieval,
    Storage,
    base64_decode,
    base64_encode,
    c_strtol,
    c_strtoul,
    c_strtoull,
    item_total_bytes,
    tokenize,
    value_header,
)


def parse(data: bytes, chunk: int = 0, **kwargs: Any) -> list[MemcacheRequest]:
    """Feed `data` whole (chunk 0) or in pieces of `chunk` bytes; every request that comes out."""
    parser = MemcacheParser(**kwargs)
    out: list[MemcacheRequest] = []
    pieces = [data] if chunk == 0 else [data[i : i + chunk] for i in range(0, len(data), chunk)]
    for piece in pieces:
        parser.feed(piece)
        while (request := parser.next_request()) is not None:
            out.append(request)
    return out


def one(data: bytes) -> MemcacheRequest:
    requests = parse(data)
    assert len(requests) == 1, requests
    return requests[0]


# --- C number parsing (util.c on a 64-bit host) ---


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (b"0", 0),
        (b"42", 42),
        (b"+7", 7),
        (b"\t9", 9),  # strtoul skips leading whitespace
        (b"9\t", 9),  # and accepts whitespace after the number
        (b"4294967295", 4294967295),
        (b"4294967296", 0),  # truncated to 32 bits, not refused
        (b"4294967301", 5),
        (b"18446744073709551615", 4294967295),
        (b"18446744073709551616", None),  # ERANGE
        (b"-1", None),  # negative as a signed long, with a '-': refused
        (b"-0", 0),
        (b"", None),
        (b"abc", None),
        (b"12abc", None),
        (b"0x10", None),
        (b"-", None),
    ],
)
def test_c_strtoul_truncates_like_a_uint32_store(token: bytes, expected: int | None) -> None:
    assert c_strtoul(token) == expected


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (b"0", 0),
        (b"-1", -1),
        (b"2147483647", 2147483647),
        (b"2147483648", -2147483648),  # an int32 store wraps
        (b"4294967296", 0),
        (b"4294967297", 1),
        (b"9223372036854775807", -1),
        (b"9223372036854775808", None),  # ERANGE for a long
        (b"-9223372036854775808", 0),
        (b"-9223372036854775809", None),
        (b" 5", 5),
        (b"5x", None),
    ],
)
def test_c_strtol_truncates_like_an_int32_store(token: bytes, expected: int | None) -> None:
    assert c_strtol(token) == expected


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (b"18446744073709551615", 2**64 - 1),
        (b"18446744073709551616", None),
        (b"-1", None),
        (b"-18446744073709551615", 1),  # negated modulo 2**64 and small enough to pass
        (b"9223372036854775808", 2**63),
        (b"-9223372036854775808", None),
        (b"1 ", 1),
    ],
)
def test_c_strtoull_follows_safe_strtoull(token: bytes, expected: int | None) -> None:
    assert c_strtoull(token) == expected


# --- base64 (memcached's lenient decoder) ---


@pytest.mark.parametrize(
    ("encoded", "decoded"),
    [
        (b"azE=", b"k1"),
        (b"Zm9v", b"foo"),
        (b"Zg==", b"f"),
        (b"Zm9v!!", b"foo"),  # bytes outside the alphabet are skipped
        (b"Zm9", None),  # not a multiple of four
        (b"====", None),  # too much padding
        (b"", None),
        (b"!!!!", None),
    ],
)
def test_base64_decode_is_memcacheds(encoded: bytes, decoded: bytes | None) -> None:
    assert base64_decode(encoded) == decoded


def test_base64_encode_pads() -> None:
    assert base64_encode(b"f") == b"Zg=="
    assert base64_encode(b"\x00\xff") == b"AP8="


# --- tokenizer ---


def test_tokenize_splits_on_spaces_only() -> None:
    assert tokenize(b"get a\tb  c") == ([b"get", b"a\tb", b"c"], 4)


def test_tokenize_caps_ntokens_like_memcached() -> None:
    tokens, ntokens = tokenize(b" ".join([b"t"] * 30))
    assert len(tokens) == 30
    assert ntokens == 24


# --- retrieval ---


def test_get_with_many_keys() -> None:
    assert one(b"get a b c\r\n") == Retrieval(b"get", [b"a", b"b", b"c"])


def test_get_keys_beyond_the_tokenizer_pass_are_kept() -> None:
    keys = [b"k%d" % i for i in range(100)]
    assert one(b"gets " + b" ".join(keys) + b"\r\n") == Retrieval(b"gets", keys)


def test_gat_and_gats_take_an_exptime_first() -> None:
    assert one(b"gat 10 a b\r\n") == Retrieval(b"gat", [b"a", b"b"], 10)
    assert one(b"gats -1 a\r\n") == Retrieval(b"gats", [b"a"], -1)
    assert one(b"gat 10\r\n") == Retrieval(b"gat", [], 10)


def test_gat_with_a_bad_exptime() -> None:
    assert one(b"gat x a\r\n") == ErrorReply(ERR_INVALID_EXPTIME)


def test_bget_is_get() -> None:
    assert one(b"bget a\r\n") == Retrieval(b"get", [b"a"])


def test_get_without_keys_is_an_error() -> None:
    assert one(b"get\r\n") == ErrorReply(ERROR)
    assert one(b"gets \r\n") == ErrorReply(ERROR)


def test_a_line_may_end_with_a_bare_newline() -> None:
    assert one(b"get a\n") == Retrieval(b"get", [b"a"])


def test_only_one_carriage_return_is_dropped() -> None:
    assert one(b"get a\r\r\n") == Retrieval(b"get", [b"a\r"])


def test_a_nul_byte_ends_the_line_as_in_c() -> None:
    assert one(b"get a\x00 b\r\n") == Retrieval(b"get", [b"a"])


# --- storage ---


@pytest.mark.parametrize("verb", [b"set", b"add", b"replace", b"append", b"prepend"])
def test_storage_commands(verb: bytes) -> None:
    assert one(verb + b" k 5 10 3\r\nabc\r\n") == Storage(verb, b"k", 5, 10, b"abc")
    assert one(verb + b" k 5 10 3 noreply\r\nabc\r\n") == Storage(
        verb, b"k", 5, 10, b"abc", noreply=True
    )


def test_storage_ignores_an_unknown_last_token() -> None:
    assert one(b"set k 0 0 1 other\r\nx\r\n") == Storage(b"set", b"k", 0, 0, b"x")


def test_cas_command() -> None:
    assert one(b"cas k 1 2 3 99\r\nabc\r\n") == Storage(b"cas", b"k", 1, 2, b"abc", 99)
    assert one(b"cas k 1 2 3 99 noreply\r\nabc\r\n") == Storage(
        b"cas", b"k", 1, 2, b"abc", 99, noreply=True
    )


def test_data_may_contain_crlf_and_any_byte() -> None:
    data = bytes(range(256)) + b"\r\n"
    assert one(b"set k 0 0 258\r\n" + data + b"\r\n") == Storage(b"set", b"k", 0, 0, data)


def test_empty_value() -> None:
    assert one(b"set k 0 0 0\r\n\r\n") == Storage(b"set", b"k", 0, 0, b"")


def test_bad_data_chunk_consumes_exactly_the_announced_bytes() -> None:
    # memcached reads 3 + 2 bytes, finds no CRLF at their end, then parses "\r\n" as a line.
    assert parse(b"set k 0 0 3\r\nabcde\r\nget k\r\n") == [
        Storage(b"set", b"k", 0, 0, b"abc", chunk_ok=False),
        ErrorReply(ERROR),
        Retrieval(b"get", [b"k"]),
    ]


@pytest.mark.parametrize(
    ("line", "noreply"),
    [
        (b"set k abc 0 1", False),
        (b"set k 0 abc 1", False),
        (b"set k 0 0 abc", False),
        (b"set k 0 0 -1", False),
        (b"set k 0 0 2147483646", False),  # vlen + 2 would overflow an int
        (b"set k -1 0 1", False),
        (b"set k abc 0 1 noreply", True),
        (b"cas k 0 0 1 abc", False),
        (b"cas k 0 0 1 -1 noreply", True),
    ],
)
def test_bad_storage_lines_do_not_swallow_the_data(line: bytes, noreply: bool) -> None:
    assert parse(line + b"\r\nx\r\n") == [ErrorReply(ERR_BAD_FORMAT, noreply), ErrorReply(ERROR)]


def test_storage_with_a_key_too_long() -> None:
    assert parse(b"set " + b"k" * 251 + b" 0 0 1\r\nx\r\n") == [
        ErrorReply(ERR_BAD_FORMAT),
        ErrorReply(ERROR),
    ]


def test_storage_key_of_250_bytes_is_fine() -> None:
    key = b"k" * 250
    assert one(b"set " + key + b" 0 0 1\r\nx\r\n") == Storage(b"set", key, 0, 0, b"x")


@pytest.mark.parametrize(
    "line", [b"set k 0 0", b"set k 0 0 1 noreply x", b"cas k 0 0 1", b"add k", b"prepend"]
)
def test_storage_with_the_wrong_token_count(line: bytes) -> None:
    assert one(line + b"\r\n") == ErrorReply(ERROR)


def test_too_large_item_is_swallowed_not_buffered() -> None:
    parser = MemcacheParser(max_item_bytes=1024)
    parser.feed(b"set big 0 0 2000\r\n")
    assert parser.next_request() == Storage(b"set", b"big", 0, 0, None)
    for _ in range(20):
        parser.feed(b"y" * 100)
        assert parser.next_request() is None
    assert parser.buffered_bytes == 0
    parser.feed(b"\r\nget big\r\n")
    assert parser.next_request() == Retrieval(b"get", [b"big"])


def test_item_size_limit_counts_key_flags_and_header() -> None:
    limit = 1024
    fits = limit - item_total_bytes(1, 0, 0)
    assert item_total_bytes(1, 0, fits) == limit
    assert one_with_limit(b"set k 0 0 %d\r\n" % fits + b"x" * fits + b"\r\n", limit).data
    # Non-zero flags take four bytes more.
    over = parse(b"set k 1 0 %d\r\n" % fits + b"x" * fits + b"\r\n", max_item_bytes=limit)
    assert over == [Storage(b"set", b"k", 1, 0, None)]


def one_with_limit(data: bytes, limit: int) -> Storage:
    requests = parse(data, max_item_bytes=limit)
    assert len(requests) == 1
    request = requests[0]
    assert isinstance(request, Storage)
    return request


# --- other classic commands ---


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"delete k", Command(b"delete", [b"delete", b"k"], b"k")),
        (b"delete k 0", Command(b"delete", [b"delete", b"k", b"0"], b"k")),
        (b"delete k noreply", Command(b"delete", [b"delete", b"k", b"noreply"], b"k", 0, True)),
        (
            b"delete k 0 noreply",
            Command(b"delete", [b"delete", b"k", b"0", b"noreply"], b"k", 0, True),
        ),
        (b"delete k 1", ErrorReply(ERR_DELETE_USAGE)),
        (b"delete k x noreply", ErrorReply(ERR_DELETE_USAGE, True)),
        (b"delete", ErrorReply(ERROR)),
        (b"delete a b c d", ErrorReply(ERROR)),
        (b"incr k 5", Command(b"incr", [b"incr", b"k", b"5"], b"k", 5)),
        (b"decr k 5 noreply", Command(b"decr", [b"decr", b"k", b"5", b"noreply"], b"k", 5, True)),
        (b"incr k -1", ErrorReply(ERR_INVALID_DELTA)),
        (b"incr k abc noreply", ErrorReply(ERR_INVALID_DELTA, True)),
        (b"incr k", ErrorReply(ERROR)),
        (b"touch k 10", Command(b"touch", [b"touch", b"k", b"10"], b"k", 10)),
        (b"touch k x", ErrorReply(ERR_INVALID_EXPTIME)),
        (b"verbosity 1", Command(b"verbosity", [b"verbosity", b"1"], number=1)),
        (b"verbosity x", ErrorReply(ERR_BAD_FORMAT)),
        (b"verbosity noreply", ErrorReply(ERR_BAD_FORMAT, True)),
        (b"verbosity", ErrorReply(ERROR)),
        (b"flush_all", Command(b"flush_all", [b"flush_all"])),
        (
            b"flush_all 10 noreply",
            Command(b"flush_all", [b"flush_all", b"10", b"noreply"], noreply=True),
        ),
        (b"flush_all 1 2 3", ErrorReply(ERROR)),
        (b"version", Command(b"version", [b"version"])),
        (b"quit now", Command(b"quit", [b"quit", b"now"])),
        (b"stats items", Command(b"stats", [b"stats", b"items"])),
        (b"shutdown graceful", Command(b"shutdown", [b"shutdown", b"graceful"])),
    ],
)
def test_other_classic_commands(line: bytes, expected: MemcacheRequest) -> None:
    assert one(line + b"\r\n") == expected


@pytest.mark.parametrize(
    "line",
    [b"", b" ", b"x", b"\r", b"GET k", b"gxx k", b"sett", b"mx k", b"slabs reassign 1 2", b"lru"],
)
def test_unknown_commands_are_errors(line: bytes) -> None:
    assert one(line + b"\n") == ErrorReply(ERROR)


def test_an_http_request_line_closes() -> None:
    assert parse(b"GET / HTTP/1.1\r\nget a\r\n") == [Close("HTTP request")]


def test_only_unknown_commands_are_checked_for_http() -> None:
    assert one(b"get / HTTP/1.1\r\n") == Retrieval(b"get", [b"/", b"HTTP/1.1"])


# --- line length ---


def test_a_long_line_without_newline_closes() -> None:
    assert parse(b"x" * 2049) == [Close("line too long")]
    assert parse(b"x" * 2048) == []


def test_a_long_get_line_keeps_being_read() -> None:
    line = b"get " + b" ".join([b"key%d" % i for i in range(2000)]) + b"\r\n"
    for chunk in (0, 1000):
        requests = parse(line, chunk)
        assert len(requests) == 1
        request = requests[0]
        assert isinstance(request, Retrieval)
        assert len(request.keys) == 2000


def test_a_get_line_past_the_multi_get_limit_closes() -> None:
    assert parse(b"get " + b"k " * 3000, max_get_line_bytes=4096) == [
        Close("multi-get line too long")
    ]


def test_too_many_leading_spaces_is_not_a_get() -> None:
    assert parse(b" " * 101 + b"get " + b"k" * 3000) == [Close("line too long")]


def test_a_complete_long_line_is_processed_like_memcached() -> None:
    # The newline came with the line: memcached parses it (and refuses the key).
    assert parse(b"set " + b"k" * 2100 + b" 0 0 1\r\nx\r\n") == [
        ErrorReply(ERR_BAD_FORMAT),
        ErrorReply(ERROR),
    ]


def test_a_line_past_the_read_buffer_closes_even_when_complete() -> None:
    assert parse(b"set " + b"k" * 17000 + b" 0 0 1\r\n") == [Close("line too long")]


def test_nothing_is_parsed_after_close() -> None:
    parser = MemcacheParser()
    parser.feed(b"x" * 3000)
    assert isinstance(parser.next_request(), Close)
    parser.feed(b"get a\r\n")
    assert parser.next_request() is None


# --- meta commands ---


def test_mn() -> None:
    assert one(b"mn\r\n") == Meta(b"mn", b"", [])


def test_mg_keeps_flag_tokens_in_order() -> None:
    request = one(b"mg k v t Oab k s c f h l u q\r\n")
    assert isinstance(request, Meta)
    assert request.tokens == [b"v", b"t", b"Oab", b"k", b"s", b"c", b"f", b"h", b"l", b"u", b"q"]
    assert request.flags == MetaFlags(value=True, no_update=True, no_reply=True)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (b"N30", MetaFlags(vivify=True, autoviv_exptime=30)),
        (b"T-1", MetaFlags(new_ttl=True, exptime=-1)),
        (b"R5", MetaFlags(has_recache=True, recache_time=5)),
        (b"F4294967296", MetaFlags(client_flags=0)),
        (b"C12", MetaFlags(has_cas=True, req_cas=12)),
        (b"MS", MetaFlags(mode=ord("S"))),
        (b"J7", MetaFlags(initial=7)),
        (b"D9", MetaFlags(delta=9)),
        (b"I", MetaFlags(set_stale=True)),
        (b"Pproxy", MetaFlags()),
        (b"Lpath", MetaFlags()),
    ],
)
def test_meta_flag_tokens(token: bytes, expected: MetaFlags) -> None:
    request = one(b"mg k " + token + b"\r\n")
    assert isinstance(request, Meta)
    assert request.flags == expected


def test_meta_base64_key() -> None:
    request = one(b"mg azE= b k\r\n")
    assert isinstance(request, Meta)
    assert request.key == b"k1"
    assert request.flags.key_binary


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b"mg k v v", ERR_DUPLICATE_FLAG),
        (b"mg k \xff", ERR_DUPLICATE_FLAG),
        (b"mg k z", ERR_INVALID_FLAG),
        (b"mg k Tx", ERR_BAD_TOKEN),
        (b"mg k N", ERR_BAD_TOKEN),
        (b"mg k Rx", ERR_BAD_TOKEN),
        (b"mg k C-1", ERR_BAD_TOKEN),
        (b"mg k Fx", ERR_BAD_FORMAT),  # F sets no text of its own
        (b"mg k MSS", ERR_M_TOKEN_LENGTH),
        (b"mg k Jx", ERR_INITIAL_VALUE),
        (b"mg k Dx", ERR_DELTA_VALUE),
        (b"mg !!!! b", ERR_DECODING_KEY),
        (b"mg k Tx Jx", ERR_INITIAL_VALUE),  # the last bad token's text wins
        (b"mg k Jx Tx", ERR_BAD_TOKEN),
        (b"mg " + b"k" * 251, ERR_BAD_FORMAT),
        (b"mg k " + b" ".join([b"O%d" % i for i in range(18)]), ERR_FLAGS_TOO_LONG_MG),
    ],
)
def test_mg_errors(line: bytes, error: bytes) -> None:
    assert one(line + b"\r\n") == ErrorReply(error)


def test_mg_without_a_key() -> None:
    assert one(b"mg\r\n") == ErrorReply(ERROR)


def test_mg_opaque_length_is_checked_by_the_verb() -> None:
    # memcached checks it while it builds the reply, after T and N took effect.
    request = one(b"mg k O" + b"x" * 40 + b"\r\n")
    assert isinstance(request, Meta)


def test_ms_with_flags_and_data() -> None:
    request = one(b"ms azE= 2 T10 F5 C7 I MA q k c Oz b\r\nhi\r\n")
    assert isinstance(request, Meta)
    assert request.command == b"ms"
    assert request.key == b"k1"
    assert request.data == b"hi"
    assert request.flags == MetaFlags(
        new_ttl=True,
        exptime=10,
        client_flags=5,
        has_cas=True,
        req_cas=7,
        set_stale=True,
        mode=ord("A"),
        no_reply=True,
        key_binary=True,
    )


def test_ms_bad_length_does_not_swallow() -> None:
    assert parse(b"ms k S2\r\nab\r\n") == [ErrorReply(ERR_BAD_FORMAT), ErrorReply(ERROR)]
    assert parse(b"ms k\r\n") == [ErrorReply(ERR_BAD_FORMAT)]
    assert parse(b"ms\r\n") == [ErrorReply(ERROR)]


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (b"z", ERR_INVALID_FLAG),
        (b"T1 T2", ERR_DUPLICATE_FLAG),
        (b"MX", ERR_MS_MODE),
        (b"O" + b"x" * 40, ERR_OPAQUE_TOO_LONG),
        (b"Fabc", ERR_BAD_FORMAT),
    ],
)
def test_ms_errors_after_the_length_swallow_the_data(flags: bytes, error: bytes) -> None:
    assert parse(b"ms k 2 " + flags + b"\r\nab\r\nmn\r\n") == [
        ErrorReply(error),
        Meta(b"mn", b"", []),
    ]


def test_ms_too_large_is_swallowed() -> None:
    requests = parse(b"ms k 2000 T0\r\n" + b"x" * 2000 + b"\r\nmn\r\n", max_item_bytes=1024)
    assert requests == [
        Meta(b"ms", b"k", [b"T0"], MetaFlags(new_ttl=True)),
        Meta(b"mn", b"", []),
    ]
    first = requests[0]
    assert isinstance(first, Meta)
    assert first.data is None


def test_ms_too_many_flags() -> None:
    flags = b" ".join([b"O%d" % i for i in range(17)])
    assert one(b"ms k 1 " + flags + b"\r\n") == ErrorReply(ERR_FLAGS_TOO_LONG)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"md k q I T30 C5 Oo k", None),
        (b"md k z", ErrorReply(ERR_INVALID_OR_DUPLICATE_FLAG)),
        (b"md k q q", ErrorReply(ERR_INVALID_OR_DUPLICATE_FLAG)),
        (b"md k O" + b"x" * 40, ErrorReply(ERR_OPAQUE_TOO_LONG)),
        (b"md " + b"k" * 251, ErrorReply(ERR_BAD_FORMAT)),
        (b"md", ErrorReply(ERROR)),
        (b"ma k N0 J1 D2 T3 MD q t c v Oo k", None),
        (b"ma k MX", ErrorReply(ERR_MA_MODE)),
        (b"ma k Dx", ErrorReply(ERR_INVALID_OR_DUPLICATE_FLAG)),
        (b"ma k " + b" ".join([b"O%d" % i for i in range(18)]), ErrorReply(ERR_FLAGS_TOO_LONG)),
        (b"me", ErrorReply(ERR_BAD_FORMAT)),
        (b"me " + b"k" * 251, ErrorReply(ERR_BAD_FORMAT)),
        (b"me !!!! b", ErrorReply(ERR_BAD_FORMAT)),
    ],
)
def test_md_ma_me(line: bytes, expected: MemcacheRequest | None) -> None:
    request = one(line + b"\r\n")
    if expected is None:
        assert isinstance(request, Meta)
    else:
        assert request == expected


def test_me_base64_key() -> None:
    request = one(b"me azE= b\r\n")
    assert isinstance(request, Meta)
    assert request.key == b"k1"


def test_ma_flags() -> None:
    request = one(b"ma k N0 J1 D2 T3 M- q\r\n")
    assert isinstance(request, Meta)
    assert request.flags == MetaFlags(
        vivify=True,
        autoviv_exptime=0,
        initial=1,
        delta=2,
        new_ttl=True,
        exptime=3,
        mode=ord("-"),
        no_reply=True,
    )


# --- sans-IO: the same requests whatever the chunking ---

SCRIPT = b"".join(
    [
        b"set a 1 0 5\r\nhello\r\n",
        b"set b 0 0 4 noreply\r\n\r\n\r\n\r\n",
        b"get a b c\r\n",
        b"gets a\r\n",
        b"gat 10 a\r\n",
        b"cas a 0 0 2 5\r\nhi\r\n",
        b"append a 0 0 1\r\n!\r\n",
        b"prepend a 0 0 1\r\n<\r\n",
        b"incr n 5\r\ndecr n 1 noreply\r\n",
        b"touch a 100\r\ndelete a\r\n",
        b"set x 0 0 3\r\nabcde\r\n",
        b"set y abc 0 1\r\nz\r\n",
        b"mg a v t c k Oop\r\n",
        b"ms m 3 T5 F7 c\r\nabc\r\n",
        b"ms m 2 Fx\r\nzz\r\n",
        b"md m q\r\nma c N0 J5 v\r\nme a\r\nmn\r\n",
        b"flush_all 10\r\nversion\r\nverbosity 1\r\nstats\r\n",
        b"set big 0 0 3000\r\n" + b"B" * 3000 + b"\r\n",
        b"get " + b" ".join([b"key%d" % i for i in range(400)]) + b"\r\n",
        b"\r\nbogus\r\nquit\r\n",
    ]
)


def test_the_script_parses() -> None:
    requests = parse(SCRIPT, max_item_bytes=2048)
    kinds = [type(r).__name__ for r in requests]
    assert kinds.count("Storage") == 7  # set y is refused, set big is too large
    assert requests[-1] == Command(b"quit", [b"quit"])


@pytest.mark.parametrize("chunk", [*range(1, 65), 100, 777, 1024, 4096])
def test_pieces_of_every_size_give_the_same_requests(chunk: int) -> None:
    assert parse(SCRIPT, chunk, max_item_bytes=2048) == parse(SCRIPT, max_item_bytes=2048)


def test_request_is_none_while_data_is_missing() -> None:
    parser = MemcacheParser()
    parser.feed(b"set k 0 0 10\r\nabc")
    assert parser.next_request() is None
    assert parser.awaiting_data
    parser.feed(b"defghij\r\n")
    assert parser.next_request() == Storage(b"set", b"k", 0, 0, b"abcdefghij")
    assert not parser.awaiting_data


# --- encoders ---


def test_value_header() -> None:
    assert value_header(b"k", 5, 3) == b"VALUE k 5 3\r\n"
    assert value_header(b"k", 0, 0, 42) == b"VALUE k 0 0 42\r\n"


# --- authentication (memcached -Y) ---


def test_authentication_phase() -> None:
    auth = b"set any 0 0 14\r\ndefault secret\r\n"
    assert parse(auth, require_auth=True) == [Auth(b"default", b"secret")]
    assert parse(b"get k\r\n", require_auth=True) == [ErrorReply(b"CLIENT_ERROR unauthenticated")]
    assert parse(b"set k 0 0 3\r\nabcde\r\n", require_auth=True) == [
        ErrorReply(b"CLIENT_ERROR bad command line termination"),
        ErrorReply(b"CLIENT_ERROR unauthenticated"),
    ]
    assert parse(b"set k 0 0 7\r\ndefault\r\n", require_auth=True) == [
        ErrorReply(b"CLIENT_ERROR bad authentication token format")
    ]
    assert parse(b"x" * 3000, require_auth=True) == [Close("line too long")]


@pytest.mark.parametrize("chunk", [1, 2, 5, 13])
def test_authentication_in_pieces(chunk: int) -> None:
    data = b"get k\r\nset any 0 0 14\r\ndefault secret\r\n"
    assert parse(data, chunk, require_auth=True) == parse(data, require_auth=True)


def test_commands_parse_once_authenticated() -> None:
    parser = MemcacheParser(require_auth=True)
    parser.feed(b"set any 0 0 14\r\ndefault secret\r\nget k\r\n")
    assert parser.next_request() == Auth(b"default", b"secret")
    parser.authenticated()
    assert not parser.require_auth
    assert parser.next_request() == Retrieval(b"get", [b"k"])


SMALL_SCRIPT = (
    b"set a 1 0 3\r\nabc\r\nget a b\r\ngets a\r\ncas a 0 0 1 9 noreply\r\nx\r\n"
    b"set bad 0 0 1\r\nxyz\r\nincr a 1\r\ntouch a 5\r\ndelete a\r\n"
    b"mg a v k Oo\r\nms b 2 T9 c\r\nhi\r\nmd b q\r\nma c N0\r\nme a\r\nmn\r\nbogus\r\n"
)


def test_pieces_of_every_size_up_to_the_whole_script() -> None:
    whole = parse(SMALL_SCRIPT)
    assert len(whole) == 16
    for chunk in range(1, len(SMALL_SCRIPT) + 1):
        assert parse(SMALL_SCRIPT, chunk) == whole, chunk


keys = st.binary(min_size=1, max_size=250).filter(lambda k: b" " not in k and b"\n" not in k)
keys = keys.filter(lambda k: b"\0" not in k and not k.endswith(b"\r"))
storage_requests = st.builds(
    Storage,
    st.sampled_from([b"set", b"add", b"replace", b"append", b"prepend"]),
    keys,
    st.integers(0, 2**32 - 1),
    st.integers(-(2**31), 2**31 - 1),
    st.binary(max_size=300),
    st.just(0),
    st.booleans(),
)
retrieval_requests = st.builds(
    Retrieval, st.sampled_from([b"get", b"gets"]), st.lists(keys, min_size=1, max_size=5)
)


def encode(request: Storage | Retrieval) -> bytes:
    if isinstance(request, Retrieval):
        return request.command + b" " + b" ".join(request.keys) + b"\r\n"
    assert request.data is not None
    line = b"%b %b %d %d %d" % (
        request.command,
        request.key,
        request.flags,
        request.exptime,
        len(request.data),
    )
    return line + (b" noreply" if request.noreply else b"") + b"\r\n" + request.data + b"\r\n"


@given(
    st.lists(st.one_of(storage_requests, retrieval_requests), min_size=1, max_size=8),
    st.integers(1, 50),
)
def test_encode_then_parse_round_trips(requests: list[Storage | Retrieval], chunk: int) -> None:
    data = b"".join(encode(r) for r in requests)
    assert parse(data) == requests
    assert parse(data, chunk) == requests


class _GeneralStorageParser(MemcacheParser):
    """The parser without its `set` shortcut: every storage line goes to `_storage`."""

    __slots__ = ()

    def _plain_set(self, tokens: list[bytes], buf: bytes, start: int) -> PlainSet | None:
        return None


def as_run(request: bytes | PlainRequest | None) -> list[PlainRequest] | None:
    """The run of one request `lone_request` gave: a get of one key comes as the key."""
    if request is None:
        return None
    return [[request]] if isinstance(request, bytes) else [request]


def as_requests(run: list[PlainRequest] | None) -> list[MemcacheRequest] | None:
    """What `next_request` gives for the requests of a run `lone_request` or `plain_run`
    read: a get line's keys stand for a `Retrieval`, a plain set's fields for a `Storage`."""
    if run is None:
        return None
    return [
        Storage(b"set", r[0], r[1], r[2], r[3], noreply=r[5], chunk_ok=r[4])
        if isinstance(r, tuple)
        else Retrieval(b"get", r)
        for r in run
    ]


_NUMBER_TOKENS = st.sampled_from(
    [b"0", b"3", b"007", b"999999999", b"4294967296", b"-1", b"+2", b"1x", b"", b"12345678"]
)


@given(
    key=st.sampled_from([b"k", b"key:000000012345", b"k" * 250, b"k" * 251]),
    flags=_NUMBER_TOKENS,
    exptime=_NUMBER_TOKENS,
    nbytes=st.sampled_from([b"0", b"3", b"5", b"1048500", b"x"]),
    last=st.sampled_from([b"", b" noreply", b" noreplY", b" 0", b" noreply x"]),
    body=st.sampled_from([b"abc\r\n", b"abcde\r\n", b"abcXY", b"", b"ab"]),
    limit=st.sampled_from([80, 1024 * 1024]),
    chunk=st.integers(0, 9),
)
def test_a_plain_set_reads_as_the_general_storage_parser_reads_it(
    key: bytes,
    flags: bytes,
    exptime: bytes,
    nbytes: bytes,
    last: bytes,
    body: bytes,
    limit: int,
    chunk: int,
) -> None:
    """`_plain_set` takes the common `set` lines on a shortcut; whatever it takes must come
    out as `_storage` makes it, and whatever it declines must be left for `_storage`."""
    data = b"set %b %b %b %b%b\r\n%bget k\r\n" % (key, flags, exptime, nbytes, last, body)
    general = _GeneralStorageParser(max_item_bytes=limit)
    expected: list[MemcacheRequest] = []
    general.feed(data)
    while (request := general.next_request()) is not None:
        expected.append(request)
    assert parse(data, chunk, max_item_bytes=limit) == expected


# Requests a client sends, good and damaged, for the readers that skip the parser rounds.
_REQUESTS = st.sampled_from(
    [
        b"get k\r\n",
        b"get k1 k2 key:000000012345\r\n",
        b"get  k\r\n",  # empty tokens
        b"get k \r\n",
        b"get \r\n",
        b"get\r\n",
        b"get k\n",  # no CR
        b"get kk\n",
        b"get k\0x\r\n",  # NUL: the key ends there
        b"get a\rb\r\n",  # a CR inside a key is part of it
        b"get a\nget b\r\n",  # a bare LF ends a line
        b"get k\r\r\n",  # the key ends with a CR
        b"get " + b"k" * 251 + b"\r\n",  # too long a key: the verb answers
        b"get " + b"k " * 8200 + b"k\r\n",  # past the read buffer
        b"gets k\r\n",
        b"GET k\r\n",
        b"set k 0 0 3\r\nabc\r\n",
        b"set k 7000 3600 3\r\nabc\r\n",  # numbers past the small-number table
        b"set k 1024 1025 1024\r\n" + b"x" * 1024 + b"\r\n",
        b"set key:000000012345 5 100 5\r\nab\r\nc\r\n",  # CRLF inside the block
        b"set k 0 0 3\r\nabcXY",  # bad data chunk: reading resumes after XY
        b"set k 0 0 3\r\nab",  # the block is not all here
        b"set k 0 0 3\nabc\r\n",  # no CR
        b"set k 0 0 3 noreply\r\nabc\r\n",
        b"set k 0 0 3 noreplY\r\nabc\r\n",  # not noreply: the token is ignored
        b"set k 0 0 3 noreply\r\nabcXY",
        b"set  k 0 0 3\r\nabc\r\n",
        b"set k 0 0 03\r\nabc\r\n",
        b"set k 0 -1 3\r\nabc\r\n",
        b"set k 4294967296 0 3\r\nabc\r\n",
        b"set k 0 0 x\r\nabc\r\n",
        b"set k\0 0 0 3\r\nabc\r\n",
        b"set k 0 0 3\r\na\0c\r\n",  # NUL in the block is data
        b"set k 0 0 1048500\r\n" + b"x" * 1048500 + b"\r\n",  # past the item size limit
        b"set " + b"k" * 251 + b" 0 0 1\r\nx\r\n",
        b"delete k\r\n",
        b"mn\r\n",
        b"\r\n",
    ]
)


@given(
    first=_REQUESTS,
    second=st.sampled_from([b"", b"get k\r\n", b"mn\r\n", b"g"]),
    limit=st.sampled_from([70, 1024 * 1024]),  # item_size_max: a 3-byte value fits, not 1024
)
def test_a_lone_request_reads_as_the_fed_parser_reads_it(
    first: bytes, second: bytes, limit: int
) -> None:
    """A request that arrives alone is read by `lone_request` without a parser round; when
    it answers, it must give what feeding the same bytes gives, and it consumes nothing."""
    data = first + second
    parser = MemcacheParser(max_item_bytes=limit)
    lone = as_requests(as_run(parser.lone_request(data)))
    assert parser.buffered_bytes == 0  # nothing was consumed
    fed = parse(data, max_item_bytes=limit)
    if lone is not None:
        assert fed == lone
    if second == b"" and first in (
        b"get k\r\n",
        b"set k 0 0 3\r\nabc\r\n",
        b"set k 0 0 3 noreply\r\nabc\r\n",
        b"set k 7000 3600 3\r\nabc\r\n",
    ):
        assert lone is not None  # the common requests do take it
    if second:
        assert lone is None  # more than one request, or a fragment after it


_PLAIN = (
    b"get k\r\n",
    b"get k1 k2 key:000000012345\r\n",
    b"get a\rb\r\n",
    b"get k\r\r\n",
    b"set k 0 0 3\r\nabc\r\n",
    b"set key:000000012345 5 100 5\r\nab\r\nc\r\n",
    b"set k 0 0 3\r\nabcXY",
    b"set k 0 0 3\r\na\0c\r\n",
    b"set k 0 0 3 noreply\r\nabc\r\n",
    b"set k 0 0 3 noreply\r\nabcXY",
)


def _replies(piece: bytes) -> int:
    """The reply pieces `plain_run` budgets for a plain get line or set."""
    return 3 * piece.split(b"\r\n")[0].count(b" ") + 1 if piece.startswith(b"get") else 1


@given(
    pieces=st.lists(_REQUESTS, min_size=1, max_size=5),
    tail=st.sampled_from([b"", b"get", b"get k\r", b"set k 0 0 3\r\nab"]),
    budget=st.sampled_from([1, 4, 10, 100, 10_000]),
)
@example(pieces=[b"get k\r\n", b"get kk\n"], tail=b"", budget=100)  # gets only
@example(pieces=[b"get k\0x\r\n"], tail=b"", budget=100)
@example(pieces=[b"get a\nget b\r\n"], tail=b"", budget=100)
@example(pieces=[b"set k 0 0 3\nabc\r\n"], tail=b"", budget=100)  # with a set
@example(pieces=[b"set k 0 0 3\r\nabc\r\n", b"get kk\n"], tail=b"", budget=100)
@example(pieces=[b"set k 0 0 3\r\nabc\r\n", b"get k\0x\r\n"], tail=b"", budget=100)
@settings(max_examples=300)
def test_a_run_of_gets_and_sets_reads_as_the_fed_parser_reads_it(
    pieces: list[bytes], tail: bytes, budget: int
) -> None:
    """Pipelined gets and sets are read by `plain_run` in one pass; when it answers, it must
    give what feeding the same bytes gives, within the reply budget, and consume nothing."""
    data = b"".join(pieces) + tail
    parser = MemcacheParser()
    run = as_requests(parser.plain_run(data, budget))
    assert parser.buffered_bytes == 0  # nothing was consumed
    if run is not None:
        assert parse(data) == run
    if not tail and all(p in _PLAIN for p in pieces):
        within = sum(map(_replies, pieces)) <= budget
        assert (run is not None) == within  # plain requests take it, within the budget


def test_plain_run_reads_runs_of_gets_and_sets() -> None:
    data = b"get a\r\nset b 0 0 1\r\nx\r\nget b c\r\n"
    expected = [
        Retrieval(b"get", [b"a"]),
        Storage(b"set", b"b", 0, 0, b"x"),
        Retrieval(b"get", [b"b", b"c"]),
    ]
    assert as_requests(MemcacheParser().plain_run(data, 12)) == expected
    assert MemcacheParser().plain_run(data, 11) is None  # over the reply budget


def test_lone_request_reads_one_get_or_set() -> None:
    assert MemcacheParser().lone_request(b"get k\r\n") == b"k"
    assert MemcacheParser().lone_request(b"get k1 k2\r\n") == [b"k1", b"k2"]
    assert MemcacheParser().lone_request(b"set k 1 2 3\r\nabc\r\n") == (
        b"k",
        1,
        2,
        b"abc",
        True,
        False,
    )
    assert MemcacheParser().lone_request(b"set k 0 0 3 noreply\r\nabX\r\n") == (
        b"k",
        0,
        0,
        b"abX",
        True,
        True,
    )


def idle(parser: MemcacheParser) -> bool:
    """`parser.idle`, read afresh (mypy would keep what an assert on the property said)."""
    return parser.idle


def test_a_parser_is_idle_only_while_it_holds_nothing_and_waits_for_a_command() -> None:
    """`lone_request` and `plain_run` may be asked only of an idle parser."""
    parser = MemcacheParser()
    assert idle(parser)
    parser.feed(b"get")  # part of a line waits
    assert not idle(parser)
    parser.feed(b" k\r\n")
    assert parser.next_request() == Retrieval(b"get", [b"k"])
    assert idle(parser)
    parser.feed(b"set k 0 0 3\r\nab")  # a data block waits
    assert parser.next_request() is None
    assert not idle(parser)
    parser.feed(b"c\r\n")
    assert parser.next_request() == Storage(b"set", b"k", 0, 0, b"abc")
    assert idle(parser)
    parser.feed(b"set k 0 0 2000000\r\n")  # too large: the block is swallowed
    assert parser.next_request() == Storage(b"set", b"k", 0, 0, None)
    assert not idle(parser)
    parser.feed(b"x" * 2000000 + b"\r\n")
    assert parser.next_request() is None
    assert idle(parser)
    parser.feed(b"get a\r\nget b\r\n")  # a second request waits
    assert parser.next_request() == Retrieval(b"get", [b"a"])
    assert not idle(parser)
    authenticating = MemcacheParser(require_auth=True)  # the fake `set` carries credentials
    assert not idle(authenticating)
    authenticating.authenticated()
    assert idle(authenticating)
