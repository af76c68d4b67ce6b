"""The byte-level codecs: CRC64, LZF, lengths, string encodings, and every compact encoding
(intset, ziplist, listpack, zipmap) against independently built bytes."""

from __future__ import annotations

import random

import pytest

from persistence.codecs import (
    RDBFormatError,
    crc64,
    decode_intset,
    decode_listpack,
    decode_ziplist,
    decode_zipmap,
    lzf_compress,
    lzf_decompress,
)
from persistence.mcmeta import decode_mcmeta, encode_mcmeta
from persistence.rdb import RDBLoader, _put_len, _put_string
from tests.unit.persistence.encoders import intset, listpack, ziplist, zipmap

# --- CRC64 ---


def test_crc64_matches_redis_test_vector() -> None:
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA


def test_crc64_continues_a_running_crc() -> None:
    rng = random.Random(1)
    data = bytes(rng.getrandbits(8) for _ in range(5000))
    assert crc64(data[3000:], crc64(data[:3000])) == crc64(data)


def test_crc64_of_nothing_is_the_initial_value() -> None:
    assert crc64(b"") == 0
    assert crc64(b"", 1234) == 1234


def test_crc64_matches_the_trailer_of_the_minimal_rdb() -> None:
    # The 18-byte empty RDB from the wire-format notes, as Redis writes it.
    minimal = bytes.fromhex("524544495330303039ff9aac7abcfb0fad74")
    assert crc64(minimal[:10]).to_bytes(8, "little") == minimal[10:]


# --- LZF ---


def test_lzf_round_trip() -> None:
    data = b"abcdefgh" * 100 + b"tail"
    packed = lzf_compress(data, len(data) - 4)
    assert packed is not None
    assert len(packed) < len(data)
    assert lzf_decompress(packed, len(data)) == data


def test_lzf_gives_up_when_it_saves_less_than_the_limit() -> None:
    rng = random.Random(7)
    data = bytes(rng.getrandbits(8) for _ in range(100))
    assert lzf_compress(data, len(data) - 4) is None


def test_lzf_output_never_exceeds_the_limit() -> None:
    data = b"ab" * 40
    packed = lzf_compress(data, 1000)
    assert packed is not None
    for limit in range(1, len(packed) + 8):
        out = lzf_compress(data, limit)
        assert out is None or (len(out) <= limit and lzf_decompress(out, len(data)) == data)
    assert lzf_compress(data, len(packed) - 1) is None


def test_lzf_damaged_or_wrong_size_is_a_format_error() -> None:
    data = b"xyz" * 50
    packed = lzf_compress(data, 1000)
    assert packed is not None
    with pytest.raises(RDBFormatError):
        lzf_decompress(packed, len(data) + 5)
    with pytest.raises(RDBFormatError):
        lzf_decompress(b"\xff\xff\xff", 10)


# --- lengths and strings ---


@pytest.mark.parametrize(
    ("n", "encoded"),
    [
        (0, b"\x00"),
        (63, b"\x3f"),
        (64, b"\x40\x40"),
        (16383, b"\x7f\xff"),
        (16384, b"\x80\x00\x00\x40\x00"),
        (2**32 - 1, b"\x80\xff\xff\xff\xff"),
        (2**32, b"\x81\x00\x00\x00\x01\x00\x00\x00\x00"),
    ],
)
def test_length_encodings(n: int, encoded: bytes) -> None:
    buf = bytearray()
    _put_len(buf, n)
    assert bytes(buf) == encoded
    assert RDBLoader(encoded).length() == n


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (b"0", b"\xc0\x00"),
        (b"-1", b"\xc0\xff"),
        (b"127", b"\xc0\x7f"),
        (b"128", b"\xc1\x80\x00"),
        (b"-32768", b"\xc1\x00\x80"),
        (b"32768", b"\xc2\x00\x80\x00\x00"),
        (b"2147483647", b"\xc2\xff\xff\xff\x7f"),
        (b"2147483648", b"\x0a2147483648"),  # past int32: a plain string
        (b"007", b"\x03007"),  # not canonical: a plain string
        (b"-0", b"\x02-0"),
        (b"+5", b"\x02+5"),
        (b"", b"\x00"),
    ],
)
def test_string_integer_encodings(value: bytes, encoded: bytes) -> None:
    buf = bytearray()
    _put_string(buf, value, compress=True)
    assert bytes(buf) == encoded
    assert RDBLoader(encoded).string() == value


def test_long_compressible_strings_are_lzf_encoded_only_with_compression() -> None:
    value = b"hello world " * 10
    buf = bytearray()
    _put_string(buf, value, compress=True)
    assert buf[0] == 0xC3
    assert RDBLoader(bytes(buf)).string() == value
    plain = bytearray()
    _put_string(plain, value, compress=False)
    assert bytes(plain) == b"\x40\x78" + value


def test_strings_of_twenty_bytes_or_less_are_never_compressed() -> None:
    buf = bytearray()
    _put_string(buf, b"a" * 20, compress=True)
    assert bytes(buf) == b"\x14" + b"a" * 20


def test_truncated_string_is_a_format_error_with_its_offset() -> None:
    with pytest.raises(RDBFormatError, match="offset"):
        RDBLoader(b"\x05abc").string()


# --- intset ---


@pytest.mark.parametrize("width", [2, 4, 8])
def test_intset_widths(width: int) -> None:
    values = [-5, 0, 7, 1000]
    assert decode_intset(intset(values, width)) == [b"-5", b"0", b"7", b"1000"]


def test_intset_extremes() -> None:
    values = [-(2**63), 2**63 - 1]
    assert decode_intset(intset(values)) == [b"%d" % v for v in values]


def test_intset_with_a_bad_width_or_size_is_refused() -> None:
    blob = intset([1, 2], 2)
    with pytest.raises(RDBFormatError):
        decode_intset(b"\x03" + blob[1:])
    with pytest.raises(RDBFormatError):
        decode_intset(blob[:-1])


# --- ziplist ---

_ZIP_VALUES: list[bytes | int] = [
    0,
    12,
    13,
    -1,
    -128,
    127,
    300,
    -32768,
    70000,
    -(2**23),
    2**31 - 1,
    -(2**31) - 1,
    2**63 - 1,
    b"",
    b"short",
    b"x" * 63,
    b"y" * 64,
    b"z" * 16383,
    b"w" * 16384,
]


def test_ziplist_every_encoding() -> None:
    expected = [v if isinstance(v, bytes) else b"%d" % v for v in _ZIP_VALUES]
    assert decode_ziplist(ziplist(_ZIP_VALUES)) == expected


def test_ziplist_with_big_prevlen_entries() -> None:
    values: list[bytes | int] = [b"a" * 300, 5, b"b" * 260, b"c"]
    assert decode_ziplist(ziplist(values)) == [b"a" * 300, b"5", b"b" * 260, b"c"]


def test_empty_ziplist() -> None:
    assert decode_ziplist(ziplist([])) == []


def test_damaged_ziplists_are_refused() -> None:
    blob = ziplist([b"hello", 5])
    with pytest.raises(RDBFormatError):
        decode_ziplist(blob[:-1])  # no end marker
    with pytest.raises(RDBFormatError):
        decode_ziplist(blob[:12] + b"\xff")  # string cut short
    with pytest.raises(RDBFormatError):
        decode_ziplist(blob[:10] + b"\x00\xc5" + b"\xff")  # no such encoding
    bad = bytearray(ziplist([7]))
    bad[11] = 0xFF  # the end marker inside an entry
    with pytest.raises(RDBFormatError):
        decode_ziplist(bytes(bad) + b"\x00\xff")


# --- listpack ---

_LP_VALUES: list[bytes | int] = [
    0,
    127,
    128,
    -1,
    -4096,
    4095,
    4096,
    -32768,
    32767,
    -(2**23),
    2**23 - 1,
    2**31 - 1,
    -(2**31),
    2**63 - 1,
    -(2**63),
    b"",
    b"a" * 63,
    b"b" * 64,
    b"c" * 4095,
    b"d" * 4096,
    b"e" * 70000,
]


def test_listpack_every_encoding() -> None:
    expected = [v if isinstance(v, bytes) else b"%d" % v for v in _LP_VALUES]
    assert decode_listpack(listpack(_LP_VALUES)) == expected


def test_empty_listpack() -> None:
    assert decode_listpack(listpack([])) == []


def test_damaged_listpacks_are_refused() -> None:
    blob = listpack([b"hello", 5])
    with pytest.raises(RDBFormatError):
        decode_listpack(blob[:-1])
    with pytest.raises(RDBFormatError):
        decode_listpack(b"\x00\x00\x00\x00" + blob[4:])  # size header wrong
    bad = bytearray(blob)
    bad[6] = 0xF5  # not an encoding
    with pytest.raises(RDBFormatError):
        decode_listpack(bytes(bad))


# --- zipmap ---


def test_zipmap_pairs_with_free_bytes_and_long_values() -> None:
    pairs = [(b"f1", b"v1"), (b"f2", b"x" * 300), (b"", b"")]
    flat = [x for pair in pairs for x in pair]
    assert decode_zipmap(zipmap(pairs)) == flat
    assert decode_zipmap(zipmap(pairs, free=3)) == flat


def test_zipmap_ending_inside_an_entry_is_refused() -> None:
    with pytest.raises(RDBFormatError):
        decode_zipmap(b"\x01\x02f1\xff")


# --- memcached metadata aux ---


def test_mcmeta_round_trip() -> None:
    table = {b"a": (0, 1), b"k" * 300: (2**32 - 1, 2**64 - 1), b"": (5, 70000)}
    assert decode_mcmeta(encode_mcmeta(table)) == table
    assert encode_mcmeta({}) == b""


def test_mcmeta_truncated_is_refused() -> None:
    blob = encode_mcmeta({b"key": (1, 2)})
    with pytest.raises(RDBFormatError):
        decode_mcmeta(blob[:-1])
