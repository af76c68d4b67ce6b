"""The RDB writer and reader in-process: round trips, every value type and opcode Redis 7.x
writes (built independently in encoders.py), checksums, refusals, DUMP payloads."""

from __future__ import annotations

import io
import struct
from typing import Any

import pytest

from persistence import format as f
from persistence.building import DEFAULT_LIMITS, EncodingLimits, make_hash, make_set, make_zset
from persistence.codecs import RDBFormatError, crc64
from persistence.rdb import (
    RDBAux,
    RDBLoader,
    RDBUnsupportedError,
    dump_payload,
    load_payload,
    load_rdb,
    module_name,
    payload_is_valid,
    run_to_end,
    write_rdb,
)
from storage.hashes import HashValue
from storage.keyspace import Keyspace
from storage.lists import ListValue
from storage.sets import SetValue
from storage.zset import ZSet
from tests.unit.persistence.encoders import (
    intset,
    listpack,
    rdb_file,
    rdb_len,
    rdb_str,
    ziplist,
    zipmap,
)

NOW_MS = 1_700_000_000_000


def _plain(value: Any) -> Any:
    """A comparable form of a stored value."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, ListValue):
        return ("list", list(value))
    if isinstance(value, SetValue):
        return ("set", set(value), value.big)
    if isinstance(value, HashValue):
        return ("hash", list(value.items()), value.big)
    if isinstance(value, ZSet):
        return ("zset", list(value.by_score), dict(value.by_member), value.big)
    raise AssertionError(type(value))


def _contents(ks: Keyspace) -> dict[tuple[int, bytes], tuple[Any, int | None]]:
    out = {}
    for db in ks.dbs:
        for data in db.data:
            for key, value in data.items():
                out[(db.index, key)] = (_plain(value), db.get_expire(key))
    return out


def _sample_keyspace() -> Keyspace:
    ks = Keyspace()
    db = ks.dbs[0]
    db.set(b"str", b"hello")
    db.set(b"int", b"-12345")
    db.set(b"bytearray", bytearray(b"edited in place"))
    db.set(b"long", b"compress me " * 50)
    db.set(b"binary", bytes(range(256)))
    db.set(b"list", ListValue([b"a", b"1", b"", b"x" * 100]))
    db.set(b"set", make_set([b"1", b"2", b"3"], DEFAULT_LIMITS))
    db.set(b"set-big", make_set([b"a", b"b"], DEFAULT_LIMITS))
    db.set(b"hash", make_hash([b"f", b"v", b"g", b"12"], DEFAULT_LIMITS))
    db.set(
        b"zset",
        make_zset([(b"a", 1.5), (b"b", float("inf")), (b"c", -3e10), (b"d", -0.0)], DEFAULT_LIMITS),
    )
    db.set(b"volatile", b"v", NOW_MS + 60_000)
    db.set(b"dead", b"v", NOW_MS - 1)
    ks.dbs[3].set(b"three", ListValue([b"x"]))
    ks.dbs[15].set(b"last", b"db15")
    return ks


def _write(ks: Keyspace, **kw: Any) -> bytes:
    out = io.BytesIO()
    write_rdb(out, ks, RDBAux(ctime_s=1), **kw)
    return out.getvalue()


# --- round trips ---


@pytest.mark.parametrize("compress", [True, False])
def test_every_type_round_trips(compress: bool) -> None:
    ks = _sample_keyspace()
    data = _write(ks, compress=compress)
    loaded = Keyspace()
    result = load_rdb(data, loaded)
    assert result.version == f.RDB_WRITE_VERSION
    assert result.checksum_verified
    assert _contents(loaded) == _contents(ks)


def test_the_header_is_redis0009_with_the_aux_fields() -> None:
    out = io.BytesIO()
    write_rdb(out, Keyspace(), RDBAux(repl_stream_db=0, repl_id="a" * 40, repl_offset=7))
    data = out.getvalue()
    assert data.startswith(b"REDIS0009")
    result = load_rdb(data, Keyspace())
    assert result.aux[b"repl-offset"] == b"7"
    assert set(result.aux) == {
        b"redis-ver",
        b"redis-bits",
        b"ctime",
        b"used-mem",
        b"repl-stream-db",
        b"repl-id",
        b"repl-offset",
        b"aof-base",
    }
    without_replication = load_rdb(_write(Keyspace()), Keyspace())
    assert b"repl-id" not in without_replication.aux


def test_an_empty_keyspace_is_header_aux_eof_and_crc() -> None:
    data = _write(Keyspace())
    assert data[-9] == f.OPCODE_EOF
    assert int.from_bytes(data[-8:], "little") == crc64(data[:-8])


def test_expired_keys_are_dropped_only_when_asked() -> None:
    data = _write(_sample_keyspace())
    kept = Keyspace()
    load_rdb(data, kept)
    assert kept.dbs[0].peek(b"dead") == b"v"
    dropped = Keyspace()
    result = load_rdb(data, dropped, now_ms=NOW_MS)
    assert dropped.dbs[0].peek(b"dead") is None
    assert result.keys_expired == 1
    assert dropped.dbs[0].peek(b"volatile") == b"v"


def test_checksum_disabled_writes_zero_and_is_accepted() -> None:
    data = _write(_sample_keyspace(), checksum=False)
    assert data[-8:] == bytes(8)
    result = load_rdb(data, Keyspace())
    assert not result.checksum_verified


def test_a_wrong_checksum_is_refused() -> None:
    data = bytearray(_write(_sample_keyspace()))
    data[-1] ^= 1
    with pytest.raises(RDBFormatError, match="wrong RDB checksum"):
        load_rdb(bytes(data), Keyspace())
    load_rdb(bytes(data), Keyspace(), verify_checksum=False)


def test_a_flipped_byte_in_the_body_is_caught() -> None:
    ks = Keyspace()
    ks.dbs[0].set(b"key", b"value-value")
    data = bytearray(_write(ks))
    data[data.index(b"value-value")] ^= 0x20
    with pytest.raises(RDBFormatError, match="checksum"):
        load_rdb(bytes(data), Keyspace())


def test_truncated_file_is_refused_with_an_offset() -> None:
    data = _write(_sample_keyspace())
    with pytest.raises(RDBFormatError, match="unexpected end of file at offset"):
        load_rdb(data[:-20], Keyspace())


def test_loading_yields_between_chunks() -> None:
    ks = Keyspace()
    for i in range(5000):
        ks.dbs[0].set(b"k%d" % i, b"v")
    loader = RDBLoader(_write(ks))
    offsets = []
    gen = loader.load(Keyspace(), chunk_keys=1000)
    while True:
        try:
            offsets.append(next(gen))
        except StopIteration:
            break
    assert len(offsets) == 5
    assert offsets == sorted(offsets)


def test_duplicated_keys_are_refused_unless_allowed() -> None:
    body = b"\xfe\x00" + b"\x00" + rdb_str(b"k") + rdb_str(b"1")
    body += b"\x00" + rdb_str(b"k") + rdb_str(b"2")
    data = rdb_file(body)
    with pytest.raises(RDBFormatError, match="1 duplicated keys"):
        load_rdb(data, Keyspace())
    not_empty = Keyspace()
    not_empty.dbs[1].set(b"other", b"x")
    with pytest.raises(RDBFormatError, match="duplicated key 'k' in DB 0"):
        load_rdb(data, not_empty)
    ks = Keyspace()
    run_to_end(RDBLoader(data).load(ks, allow_duplicates=True))
    assert ks.dbs[0].peek(b"k") == b"2"


def test_more_databases_than_configured_is_refused() -> None:
    data = rdb_file(b"\xfe\x20" + b"\x00" + rdb_str(b"k") + rdb_str(b"v"))
    with pytest.raises(RDBFormatError, match="more than 16 databases"):
        load_rdb(data, Keyspace())


@pytest.mark.parametrize("version", [0, 13])
def test_unknown_versions_are_refused(version: int) -> None:
    with pytest.raises(RDBFormatError, match="version"):
        load_rdb(rdb_file(b"", version=version), Keyspace())


def test_wrong_signature_is_refused() -> None:
    with pytest.raises(RDBFormatError, match="signature"):
        load_rdb(b"RUBBISH00" + b"\xff", Keyspace())


def test_old_versions_without_checksum_load() -> None:
    data = b"REDIS0004" + b"\xfe\x00" + b"\x00" + rdb_str(b"k") + rdb_str(b"v") + b"\xff"
    ks = Keyspace()
    result = load_rdb(data, ks)
    assert result.version == 4
    assert ks.dbs[0].peek(b"k") == b"v"


# --- everything Redis 7.x writes ---


def _load_one(type_byte: int, body: bytes, limits: EncodingLimits = DEFAULT_LIMITS) -> Any:
    data = rdb_file(b"\xfe\x00" + bytes([type_byte]) + rdb_str(b"key") + body)
    ks = Keyspace()
    run_to_end(RDBLoader(data, limits=limits).load(ks))
    return ks.dbs[0].peek(b"key")


def test_list_ziplist_type_10() -> None:
    value = _load_one(f.TYPE_LIST_ZIPLIST, rdb_str(ziplist([b"a", 5, b"c"])))
    assert _plain(value) == ("list", [b"a", b"5", b"c"])


def test_set_intset_type_11() -> None:
    value = _load_one(f.TYPE_SET_INTSET, rdb_str(intset([3, -1, 2**40])))
    assert _plain(value) == ("set", {b"3", b"-1", b"%d" % 2**40}, False)


def test_zset_ziplist_type_12() -> None:
    value = _load_one(f.TYPE_ZSET_ZIPLIST, rdb_str(ziplist([b"a", 1, b"b", b"2.5"])))
    assert _plain(value)[2] == {b"a": 1.0, b"b": 2.5}


def test_hash_ziplist_type_13() -> None:
    value = _load_one(f.TYPE_HASH_ZIPLIST, rdb_str(ziplist([b"f", b"v", b"n", 7])))
    assert _plain(value) == ("hash", [(b"f", b"v"), (b"n", b"7")], False)


def test_hash_zipmap_type_9() -> None:
    value = _load_one(f.TYPE_HASH_ZIPMAP, rdb_str(zipmap([(b"f", b"v"), (b"g", b"w" * 300)])))
    assert _plain(value) == ("hash", [(b"f", b"v"), (b"g", b"w" * 300)], True)


def test_quicklist_type_14_of_ziplists() -> None:
    body = rdb_len(2) + rdb_str(ziplist([b"a", 1])) + rdb_str(ziplist([b"b"]))
    assert _plain(_load_one(f.TYPE_LIST_QUICKLIST, body)) == ("list", [b"a", b"1", b"b"])


def test_quicklist_2_type_18_with_packed_and_plain_nodes() -> None:
    body = rdb_len(3)
    body += rdb_len(f.QUICKLIST_NODE_PACKED) + rdb_str(listpack([b"a", -3]))
    body += rdb_len(f.QUICKLIST_NODE_PLAIN) + rdb_str(b"p" * 1000)
    body += rdb_len(f.QUICKLIST_NODE_PACKED) + rdb_str(listpack([b"z"]))
    assert _plain(_load_one(f.TYPE_LIST_QUICKLIST_2, body)) == (
        "list",
        [b"a", b"-3", b"p" * 1000, b"z"],
    )


def test_quicklist_2_with_a_bad_container_is_refused() -> None:
    body = rdb_len(1) + rdb_len(3) + rdb_str(listpack([b"a"]))
    with pytest.raises(RDBFormatError, match="Quicklist"):
        _load_one(f.TYPE_LIST_QUICKLIST_2, body)


def test_hash_listpack_type_16_keeps_field_order() -> None:
    value = _load_one(f.TYPE_HASH_LISTPACK, rdb_str(listpack([b"z", b"1", b"a", 2])))
    assert _plain(value) == ("hash", [(b"z", b"1"), (b"a", b"2")], False)


def test_zset_listpack_type_17() -> None:
    value = _load_one(f.TYPE_ZSET_LISTPACK, rdb_str(listpack([b"m", b"inf", b"n", -2])))
    assert _plain(value)[2] == {b"m": float("inf"), b"n": -2.0}


def test_set_listpack_type_20() -> None:
    value = _load_one(f.TYPE_SET_LISTPACK, rdb_str(listpack([b"x", 5])))
    assert _plain(value) == ("set", {b"x", b"5"}, True)


def test_zset_type_3_with_string_scores() -> None:
    body = rdb_len(3)
    body += rdb_str(b"a") + b"\x031.5"
    body += rdb_str(b"b") + b"\xfe"  # +inf
    body += rdb_str(b"c") + b"\xff"  # -inf
    value = _load_one(f.TYPE_ZSET, body)
    assert _plain(value)[2] == {b"a": 1.5, b"b": float("inf"), b"c": float("-inf")}


def test_zset_with_a_nan_score_is_refused() -> None:
    body = rdb_len(1) + rdb_str(b"a") + b"\xfd"
    with pytest.raises(RDBFormatError, match="NaN"):
        _load_one(f.TYPE_ZSET, body)


@pytest.mark.parametrize(
    ("type_byte", "body"),
    [
        (f.TYPE_SET, rdb_len(2) + rdb_str(b"a") + rdb_str(b"a")),
        (f.TYPE_HASH, rdb_len(2) + rdb_str(b"f") + rdb_str(b"1") + rdb_str(b"f") + rdb_str(b"2")),
        (
            f.TYPE_ZSET_2,
            rdb_len(2)
            + rdb_str(b"m")
            + struct.pack("<d", 1)
            + rdb_str(b"m")
            + struct.pack("<d", 2),
        ),
    ],
)
def test_duplicate_elements_are_corruption(type_byte: int, body: bytes) -> None:
    with pytest.raises(RDBFormatError, match="duplicate"):
        _load_one(type_byte, body)


def test_empty_containers_are_skipped() -> None:
    body = b"\xfe\x00" + bytes([f.TYPE_LIST]) + rdb_str(b"empty") + rdb_len(0)
    body += b"\x00" + rdb_str(b"k") + rdb_str(b"v")
    ks = Keyspace()
    result = load_rdb(rdb_file(body), ks)
    assert result.empty_keys_skipped == 1
    assert ks.dbs[0].peek(b"empty") is None
    assert ks.dbs[0].peek(b"k") == b"v"


@pytest.mark.parametrize(
    ("type_byte", "kind"),
    [
        (f.TYPE_STREAM_LISTPACKS, "stream"),
        (f.TYPE_STREAM_LISTPACKS_2, "stream"),
        (f.TYPE_STREAM_LISTPACKS_3, "stream"),
        (f.TYPE_MODULE_2, "module"),
        (f.TYPE_HASH_METADATA, "hash with field expiration"),
    ],
)
def test_streams_and_modules_are_refused_naming_key_and_type(type_byte: int, kind: str) -> None:
    data = rdb_file(b"\xfe\x00" + bytes([type_byte]) + rdb_str(b"my:key") + b"\x00" * 20)
    with pytest.raises(RDBUnsupportedError, match=f"key 'my:key' holds a {kind}"):
        load_rdb(data, Keyspace())


def test_opcodes_without_keys_are_handled() -> None:
    module_id = 0x1234567890ABC << 10
    body = b"\xfa" + rdb_str(b"%info") + rdb_str(b"logged")
    body += b"\xf5" + rdb_str(b"#!lua name=lib\nredis.register_function('f', function() end)")
    body += b"\xf7" + rdb_len(module_id) + rdb_len(f.MODULE_OPCODE_UINT) + rdb_len(2)
    body += rdb_len(f.MODULE_OPCODE_STRING) + rdb_str(b"module data")
    body += rdb_len(f.MODULE_OPCODE_DOUBLE) + struct.pack("<d", 1.5)
    body += rdb_len(f.MODULE_OPCODE_EOF)
    body += b"\xfe\x02\xfb\x02\x01"
    body += b"\xf8" + rdb_len(100) + b"\x00" + rdb_str(b"idle") + rdb_str(b"1")
    body += b"\xf9\x07" + b"\x00" + rdb_str(b"freq") + rdb_str(b"2")
    body += b"\xfd" + (2_000_000_000).to_bytes(4, "little") + b"\x00" + rdb_str(b"secs")
    body += rdb_str(b"3")
    body += b"\xf4" + rdb_len(5) + rdb_len(1) + rdb_len(0)
    ks = Keyspace()
    result = load_rdb(rdb_file(body, version=12), ks)
    assert result.keys_loaded == 3
    assert ks.dbs[2].get_expire(b"secs") == 2_000_000_000_000
    assert result.aux[b"%info"] == b"logged"


def test_module_names_decode_from_their_ids() -> None:
    charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    name = "ReJSON-RL"
    module_id = 0
    for ch in name:
        module_id = (module_id << 6) | charset.index(ch)
    assert module_name((module_id << 10) | 3) == name


def test_pre_release_functions_are_refused() -> None:
    with pytest.raises(RDBFormatError, match="pre-release"):
        load_rdb(rdb_file(b"\xf6" + rdb_str(b"x")), Keyspace())


# --- encodings decided from the limits ---


def test_big_flags_follow_the_limits() -> None:
    limits = EncodingLimits(
        hash_max_entries=2,
        hash_max_value=5,
        set_max_intset_entries=2,
        zset_max_entries=2,
        zset_max_value=5,
    )
    assert not make_hash([b"a", b"1", b"b", b"2"], limits).big
    assert make_hash([b"a", b"1", b"b", b"2", b"c", b"3"], limits).big
    assert make_hash([b"a", b"123456"], limits).big
    assert not make_set([b"1", b"2"], limits).big
    assert make_set([b"1", b"2", b"3"], limits).big
    assert make_set([b"01"], limits).big
    assert make_set([b"9223372036854775808"], limits).big
    assert not make_set([b"-9223372036854775808"], limits).big
    assert not make_zset([(b"a", 1.0), (b"b", 2.0)], limits).big
    assert make_zset([(b"toolong", 1.0)], limits).big


# --- DUMP payloads ---


@pytest.mark.parametrize(
    "value",
    [
        b"plain",
        b"42",
        b"x" * 500,
        ListValue([b"a", b"b"]),
        make_set([b"1", b"x"], DEFAULT_LIMITS),
        make_hash([b"f", b"v"], DEFAULT_LIMITS),
        make_zset([(b"m", 2.5)], DEFAULT_LIMITS),
    ],
)
def test_dump_payload_round_trip(value: Any) -> None:
    payload = dump_payload(value)
    assert payload_is_valid(payload)
    assert payload[-10:-8] == b"\x09\x00"
    assert _plain(load_payload(payload)) == _plain(value)


def test_dump_payload_checks_version_and_crc() -> None:
    payload = bytearray(dump_payload(b"value"))
    assert not payload_is_valid(bytes(payload[:9]))
    bad_crc = bytearray(payload)
    bad_crc[-1] ^= 0xFF
    assert not payload_is_valid(bytes(bad_crc))
    future = bytearray(payload[:-10]) + (13).to_bytes(2, "little")
    future += crc64(bytes(future)).to_bytes(8, "little")
    assert not payload_is_valid(bytes(future))
    assert payload_is_valid(bytes(future), max_version=13)


def test_redis_70_payload_with_listpack_hash_loads() -> None:
    body = bytes([f.TYPE_HASH_LISTPACK]) + rdb_str(listpack([b"f", b"v"]))
    body += (10).to_bytes(2, "little")
    payload = body + crc64(body).to_bytes(8, "little")
    assert payload_is_valid(payload)
    assert _plain(load_payload(payload)) == ("hash", [(b"f", b"v")], False)


def test_payload_of_an_empty_container_is_bad_data() -> None:
    body = bytes([f.TYPE_LIST]) + rdb_len(0) + (9).to_bytes(2, "little")
    payload = body + crc64(body).to_bytes(8, "little")
    with pytest.raises(RDBFormatError):
        load_payload(payload)
