"""RDB snapshots: the writer (plain types, REDIS0009) and the reader (everything Redis 7.x
writes), plus DUMP / RESTORE payloads, which are one value in the same encoding.

Storage and bytes only: no sockets, no server state. The writer walks a `Keyspace` and streams
to a binary file object; the reader parses a bytes-like buffer (bytes, or an mmap of the file
so a large snapshot is not copied) and fills a `Keyspace`.

Strategy (writer): always the plain value types (string 0, list 1, set 2, zset 5, hash 4), so
every Redis from 5.0 on loads our files and picks its own compact encodings (see
shared/notes/redis-wire-formats.md section 3). Strings shorter than 12 bytes that are
canonical integers in the int32 range take the integer encodings; with `rdbcompression`,
strings longer than 20 bytes are LZF-compressed when that saves at least four bytes, exactly
as rdbSaveRawString decides. Keys are written with their deadline even if it has passed
(Redis does the same; the loader drops them). The CRC64 runs over every byte up to and
including the EOF opcode; with `rdbchecksum no` it is written as zero.

Strategy (reader): `RDBLoader.load` is a generator. It yields the offset reached after every
`chunk_keys` keys, so the caller can interleave other work (the server answers -LOADING
between chunks) or just drive it to the end with `run_to_end`. It refuses streams and
module values by naming the key and its type, skips function libraries and module aux data
with a warning, and checks the CRC64 at the end unless told not to.
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import IO, Any, Final, TypeVar

from persistence import format as f
from persistence.building import (
    DEFAULT_LIMITS,
    EncodingLimits,
    make_hash,
    make_list,
    make_set,
    make_zset,
)
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
from protocol.resp import string2ll
from storage.hashes import HashValue
from storage.keyspace import Database, Keyspace
from storage.lists import ListValue
from storage.sets import SetValue
from storage.zset import ZSet

logger = logging.getLogger(__name__)

T = TypeVar("T")

_Q: Final = struct.Struct("<q")
_D: Final = struct.Struct("<d")
_I32_MIN: Final = -(2**31)
_I32_MAX: Final = 2**31 - 1
_FLUSH_BYTES: Final = 1 << 20
# The byte that starts an LZF-compressed string (the 11 prefix, then ENC_LZF).
_SHORT_LZF: Final = (f.LEN_ENCVAL << 6) | f.ENC_LZF


class RDBUnsupportedError(RDBFormatError):
    """The file is valid but holds something Duocache cannot store (a stream, a module value)."""


# --- writing ---


def _put_len(buf: bytearray, n: int) -> None:
    if n < 64:
        buf.append(n)
    elif n < 16384:
        buf.append(0x40 | (n >> 8))
        buf.append(n & 0xFF)
    elif n <= 0xFFFFFFFF:
        buf.append(f.LEN_32BIT)
        buf += n.to_bytes(4, "big")
    else:
        buf.append(f.LEN_64BIT)
        buf += n.to_bytes(8, "big")


def _put_string(buf: bytearray, s: bytes | bytearray, compress: bool) -> None:
    """rdbSaveRawString: integer encoding, else LZF when worth it, else length + bytes."""
    n = len(s)
    if n <= 11 and n:
        c = s[0]
        if 48 <= c <= 57 or c == 45:
            v = string2ll(s)
            if v is not None and _I32_MIN <= v <= _I32_MAX:
                if -128 <= v <= 127:
                    buf.append(0xC0 | f.ENC_INT8)
                    buf.append(v & 0xFF)
                elif -32768 <= v <= 32767:
                    buf.append(0xC0 | f.ENC_INT16)
                    buf += v.to_bytes(2, "little", signed=True)
                else:
                    buf.append(0xC0 | f.ENC_INT32)
                    buf += v.to_bytes(4, "little", signed=True)
                return
    elif compress and n > 20:
        packed = lzf_compress(bytes(s), n - 4)
        if packed is not None:
            buf.append(0xC0 | f.ENC_LZF)
            _put_len(buf, len(packed))
            _put_len(buf, n)
            buf += packed
            return
    _put_len(buf, n)
    buf += s


def _put_value(buf: bytearray, value: Any, compress: bool) -> None:
    """The type byte is written by the caller; this writes the value body."""
    t = type(value)
    if t is bytes or t is bytearray:
        _put_string(buf, value, compress)
    elif t is ListValue or t is SetValue:
        _put_len(buf, len(value))
        for item in value:
            _put_string(buf, item, compress)
    elif t is HashValue:
        _put_len(buf, len(value))
        for k, v in value.items():
            _put_string(buf, k, compress)
            _put_string(buf, v, compress)
    elif t is ZSet:
        _put_len(buf, len(value))
        pack = _D.pack
        # Highest score first, as Redis writes a skiplist: loading then appends in order.
        for score, member in reversed(value.by_score):
            _put_string(buf, member, compress)
            buf += pack(score)
    else:
        raise TypeError(f"cannot save a {t.__name__} in an RDB")


_TYPE_BYTES: Final[dict[type, int]] = {
    bytes: f.TYPE_STRING,
    bytearray: f.TYPE_STRING,
    ListValue: f.TYPE_LIST,
    SetValue: f.TYPE_SET,
    ZSet: f.TYPE_ZSET_2,
    HashValue: f.TYPE_HASH,
}


def rdb_type_of(value: Any) -> int:
    """The RDB type byte the writer uses for a stored value."""
    return _TYPE_BYTES[type(value)]


@dataclass(slots=True)
class RDBAux:
    """The aux fields written after the header (rdbSaveInfoAuxFields)."""

    redis_ver: str = "7.0.15"
    ctime_s: int = 0
    used_mem: int = 0
    repl_stream_db: int | None = None  # None: no replication fields
    repl_id: str = ""
    repl_offset: int = 0
    aof_base: bool = False


class RDBWriter:
    """Streams one RDB file to `out`, keeping the running CRC64.

    Use `header(aux)`, then `database(db)` for each database, optionally `aux(...)`, then
    `finish()`.
    """

    def __init__(self, out: IO[bytes], *, compress: bool = True, checksum: bool = True) -> None:
        self.out = out
        self.compress = compress
        self.checksum = checksum
        self.crc = 0
        self.written_bytes = 0
        self.keys_written = 0
        self._buf = bytearray()

    def _flush(self) -> None:
        buf = self._buf
        if buf:
            if self.checksum:
                self.crc = crc64(buf, self.crc)
            self.out.write(buf)
            self.written_bytes += len(buf)
            buf.clear()

    def header(self, aux: RDBAux) -> None:
        self._buf += b"%s%04d" % (f.MAGIC, f.RDB_WRITE_VERSION)
        self.aux(f.AUX_REDIS_VER, aux.redis_ver.encode())
        self.aux(f.AUX_REDIS_BITS, b"64")
        self.aux(f.AUX_CTIME, b"%d" % (aux.ctime_s or int(time.time())))
        self.aux(f.AUX_USED_MEM, b"%d" % aux.used_mem)
        if aux.repl_stream_db is not None:
            self.aux(f.AUX_REPL_STREAM_DB, b"%d" % aux.repl_stream_db)
            self.aux(f.AUX_REPL_ID, aux.repl_id.encode())
            self.aux(f.AUX_REPL_OFFSET, b"%d" % aux.repl_offset)
        self.aux(f.AUX_AOF_BASE, b"1" if aux.aof_base else b"0")

    def aux(self, key: bytes, value: bytes) -> None:
        buf = self._buf
        buf.append(f.OPCODE_AUX)
        _put_string(buf, key, self.compress)
        _put_string(buf, value, self.compress)

    def database(self, db: Database) -> None:
        """SELECTDB, RESIZEDB, then every key of `db` (none of it if the db is empty)."""
        size = db.size()
        if not size:
            return
        buf = self._buf
        buf.append(f.OPCODE_SELECTDB)
        _put_len(buf, db.index)
        buf.append(f.OPCODE_RESIZEDB)
        _put_len(buf, size)
        _put_len(buf, db.volatile_size())
        compress = self.compress
        pack_q = _Q.pack
        count = 0
        for data, expires in zip(db.data, db.expires, strict=True):
            if not data:
                continue
            for key, value in data.items():
                if expires:
                    deadline = expires.get(key)
                    if deadline is not None:
                        buf.append(f.OPCODE_EXPIRETIME_MS)
                        buf += pack_q(deadline)
                t = type(value)
                if t is bytes:
                    buf.append(f.TYPE_STRING)
                    _put_string(buf, key, compress)
                    _put_string(buf, value, compress)
                else:
                    buf.append(_TYPE_BYTES[t])
                    _put_string(buf, key, compress)
                    _put_value(buf, value, compress)
                count += 1
                if len(buf) >= _FLUSH_BYTES:
                    self._flush()
        self.keys_written += count

    def finish(self) -> int:
        """Write EOF and the checksum; return the file's size in bytes."""
        self._buf.append(f.OPCODE_EOF)
        self._flush()
        trailer = self.crc.to_bytes(8, "little") if self.checksum else bytes(8)
        self.out.write(trailer)
        self.written_bytes += 8
        return self.written_bytes


def write_rdb(
    out: IO[bytes],
    keyspace: Keyspace,
    aux: RDBAux,
    *,
    compress: bool = True,
    checksum: bool = True,
    extra_aux: Iterable[tuple[bytes, bytes]] | None = None,
) -> RDBWriter:
    """Write a whole snapshot of `keyspace` to `out`.

    Args:
        out: a binary file object (only `write` is used).
        keyspace: the data; read only, never expired or otherwise changed.
        aux: header fields.
        compress: `rdbcompression`.
        checksum: `rdbchecksum`.
        extra_aux: more aux fields, written after the data (Duocache's memcached metadata).

    Returns:
        The writer, for its byte and key counts.
    """
    writer = RDBWriter(out, compress=compress, checksum=checksum)
    writer.header(aux)
    for db in keyspace.dbs:
        writer.database(db)
    if extra_aux is not None:
        for key, value in extra_aux:
            writer.aux(key, value)
    writer.finish()
    return writer


# --- DUMP / RESTORE payloads ---


def dump_payload(value: Any) -> bytes:
    """DUMP: <type><value><u16 LE RDB version><u64 LE CRC64 of everything before>."""
    buf = bytearray()
    buf.append(rdb_type_of(value))
    # Redis compresses DUMP payloads whatever `rdbcompression` says (rdbSaveObject).
    _put_value(buf, value, True)
    buf += f.RDB_WRITE_VERSION.to_bytes(2, "little")
    buf += crc64(buf).to_bytes(8, "little")
    return bytes(buf)


def payload_is_valid(payload: bytes, max_version: int = f.RDB_MAX_READ_VERSION) -> bool:
    """verifyDumpPayload: long enough, a version we read, and a matching CRC64."""
    if len(payload) < f.DUMP_FOOTER_SIZE:
        return False
    footer = len(payload) - f.DUMP_FOOTER_SIZE
    version = payload[footer] | (payload[footer + 1] << 8)
    if version > max_version:
        return False
    return crc64(memoryview(payload)[: footer + 2]) == int.from_bytes(
        payload[footer + 2 :], "little"
    )


def load_payload(payload: bytes, limits: EncodingLimits = DEFAULT_LIMITS) -> Any:
    """The value a DUMP payload holds (call `payload_is_valid` first).

    Raises:
        RDBFormatError: the body is malformed, empty, or an unsupported type.
    """
    body = payload[: len(payload) - f.DUMP_FOOTER_SIZE]
    reader = RDBLoader(body, limits=limits, origin="DUMP payload")
    type_byte = reader.byte()
    value = reader.value(type_byte, b"")
    if value is None:
        raise RDBFormatError("empty value")
    return value


# --- reading ---


@dataclass(slots=True)
class RDBLoadResult:
    """What a load found besides the keys."""

    version: int = 0
    keys_loaded: int = 0
    keys_expired: int = 0
    empty_keys_skipped: int = 0
    end_offset: int = 0  # just past the checksum: an AOF tail starts here
    aux: dict[bytes, bytes] = field(default_factory=dict)
    checksum_verified: bool = False


_TYPE_NAMES: Final = {
    f.TYPE_MODULE_PRE_GA: "module",
    f.TYPE_MODULE_2: "module",
    f.TYPE_STREAM_LISTPACKS: "stream",
    f.TYPE_STREAM_LISTPACKS_2: "stream",
    f.TYPE_STREAM_LISTPACKS_3: "stream",
    f.TYPE_HASH_METADATA_PRE_GA: "hash with field expiration",
    f.TYPE_HASH_LISTPACK_EX_PRE_GA: "hash with field expiration",
    f.TYPE_HASH_METADATA: "hash with field expiration",
    f.TYPE_HASH_LISTPACK_EX: "hash with field expiration",
}

_MODULE_CHARSET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def module_name(module_id: int) -> str:
    """moduleTypeNameByID: the 9-character name packed in a module type id."""
    return "".join(_MODULE_CHARSET[(module_id >> (64 - 6 * (i + 1))) & 63] for i in range(9))


class RDBLoader:
    """Parses an RDB (or a DUMP body) held in a bytes-like buffer."""

    def __init__(
        self,
        data: bytes | memoryview | Any,
        *,
        limits: EncodingLimits = DEFAULT_LIMITS,
        origin: str = "RDB",
        start: int = 0,
    ) -> None:
        self.data = data
        self.size = len(data)
        self.pos = start
        self.start = start
        self.limits = limits
        self.origin = origin

    # --- primitives ---

    def fail(self, reason: str) -> RDBFormatError:
        return RDBFormatError(f"{self.origin}: {reason} at offset {self.pos}")

    def read(self, n: int) -> bytes:
        pos = self.pos
        end = pos + n
        if end > self.size:
            raise self.fail("unexpected end of file")
        self.pos = end
        return bytes(self.data[pos:end])

    def byte(self) -> int:
        pos = self.pos
        if pos >= self.size:
            raise self.fail("unexpected end of file")
        self.pos = pos + 1
        return int(self.data[pos])

    def length_or_encoding(self) -> tuple[int, bool]:
        """rdbLoadLenByRef: (length, False) or (special encoding, True)."""
        b = self.byte()
        kind = b >> 6
        if kind == f.LEN_6BIT:
            return b & 0x3F, False
        if kind == f.LEN_14BIT:
            return ((b & 0x3F) << 8) | self.byte(), False
        if kind == f.LEN_ENCVAL:
            return b & 0x3F, True
        if b == f.LEN_32BIT:
            return int.from_bytes(self.read(4), "big"), False
        if b == f.LEN_64BIT:
            return int.from_bytes(self.read(8), "big"), False
        raise self.fail(f"unknown length encoding {b}")

    def length(self) -> int:
        n, encoded = self.length_or_encoding()
        if encoded:
            raise self.fail("a length was expected")
        return n

    def string(self) -> bytes:
        """rdbGenericLoadStringObject: plain, integer-encoded or LZF-compressed."""
        pos = self.pos
        data = self.data
        if pos + 2 < self.size:
            b = data[pos]
            if b < 64:  # the common case: a plain string shorter than 64 bytes
                end = pos + 1 + b
                if end > self.size:
                    raise self.fail("unexpected end of file")
                self.pos = end
                return bytes(data[pos + 1 : end])
            if b == _SHORT_LZF and data[pos + 1] < 64 and data[pos + 2] < 64:
                # The other common case: a short value LZF-compressed, its two lengths one
                # byte each (read below through length_or_encoding otherwise).
                start = pos + 3
                end = start + data[pos + 1]
                if end > self.size:
                    raise self.fail("unexpected end of file")
                self.pos = end
                try:
                    return lzf_decompress(bytes(data[start:end]), data[pos + 2])
                except RDBFormatError:
                    raise self.fail("invalid LZF compressed string") from None
        n, encoded = self.length_or_encoding()
        if not encoded:
            pos = self.pos
            end = pos + n
            if end > self.size:
                raise self.fail("unexpected end of file")
            self.pos = end
            return bytes(self.data[pos:end])
        if n == f.ENC_INT8:
            v = self.byte()
            return b"%d" % (v - 256 if v > 127 else v)
        if n == f.ENC_INT16:
            return b"%d" % int.from_bytes(self.read(2), "little", signed=True)
        if n == f.ENC_INT32:
            return b"%d" % int.from_bytes(self.read(4), "little", signed=True)
        if n == f.ENC_LZF:
            compressed_len = self.length()
            size = self.length()
            packed = self.read(compressed_len)
            try:
                return lzf_decompress(packed, size)
            except RDBFormatError:
                raise self.fail("invalid LZF compressed string") from None
        raise self.fail(f"unknown string encoding {n}")

    def double_string(self) -> float:
        """The score of a ZSET (type 3): <len> ASCII, 253 nan, 254 inf, 255 -inf."""
        n = self.byte()
        if n == 253:
            return float("nan")
        if n == 254:
            return float("inf")
        if n == 255:
            return float("-inf")
        raw = self.read(n)
        try:
            return float(raw)
        except ValueError:
            raise self.fail("invalid double value") from None

    def binary_double(self) -> float:
        return float(_D.unpack(self.read(8))[0])

    def _decoded(self, decode: Callable[[bytes], T], what: str) -> T:
        blob = self.string()
        try:
            return decode(blob)
        except RDBFormatError as e:
            raise self.fail(f"{what} integrity check failed ({e})") from None

    # --- values ---

    def value(self, type_byte: int, key: bytes) -> Any | None:
        """rdbLoadObject: the value of `type_byte`; None for an empty container."""
        if type_byte == f.TYPE_STRING:
            return self.string()
        if type_byte in (f.TYPE_LIST, f.TYPE_SET):
            n = self.length()
            items = [self.string() for _ in range(n)]
            if not items:
                return None
            if type_byte == f.TYPE_LIST:
                return make_list(items)
            return self._built(make_set, items)
        if type_byte == f.TYPE_HASH:
            n = self.length()
            flat = [self.string() for _ in range(2 * n)]
            return self._built(make_hash, flat) if flat else None
        if type_byte in (f.TYPE_ZSET, f.TYPE_ZSET_2):
            n = self.length()
            score = self.double_string if type_byte == f.TYPE_ZSET else self.binary_double
            pairs = []
            for _ in range(n):
                member = self.string()
                pairs.append((member, score()))
            return self._built(make_zset, pairs) if pairs else None
        if type_byte in (f.TYPE_LIST_QUICKLIST, f.TYPE_LIST_QUICKLIST_2):
            return self._quicklist(type_byte)
        if type_byte == f.TYPE_LIST_ZIPLIST:
            items = self._decoded(decode_ziplist, "Ziplist")
            return make_list(items) if items else None
        if type_byte == f.TYPE_SET_INTSET:
            items = self._decoded(decode_intset, "Intset")
            return self._built(make_set, items) if items else None
        if type_byte == f.TYPE_SET_LISTPACK:
            items = self._decoded(decode_listpack, "Listpack")
            return self._built(make_set, items) if items else None
        if type_byte in (f.TYPE_HASH_ZIPLIST, f.TYPE_HASH_LISTPACK, f.TYPE_HASH_ZIPMAP):
            decode = {
                f.TYPE_HASH_ZIPLIST: decode_ziplist,
                f.TYPE_HASH_LISTPACK: decode_listpack,
                f.TYPE_HASH_ZIPMAP: decode_zipmap,
            }[type_byte]
            flat = self._decoded(decode, "Hash encoding")
            return self._built(make_hash, flat) if flat else None
        if type_byte in (f.TYPE_ZSET_ZIPLIST, f.TYPE_ZSET_LISTPACK):
            decode = decode_ziplist if type_byte == f.TYPE_ZSET_ZIPLIST else decode_listpack
            flat = self._decoded(decode, "Sorted set encoding")
            if len(flat) % 2:
                raise self.fail("sorted set encoding with an odd number of elements")
            try:
                pairs = [(flat[i], float(flat[i + 1])) for i in range(0, len(flat), 2)]
            except ValueError:
                raise self.fail("invalid sorted set score") from None
            return self._built(make_zset, pairs) if pairs else None
        kind = _TYPE_NAMES.get(type_byte)
        shown = key.decode("utf-8", "backslashreplace")
        if kind is not None:
            raise RDBUnsupportedError(
                f"{self.origin}: key '{shown}' holds a {kind} (RDB type {type_byte}), "
                "which Duocache does not support"
            )
        raise self.fail(f"unknown RDB value type {type_byte} for key '{shown}'")

    def _built(self, build: Callable[[Any, EncodingLimits], T], items: Any) -> T:
        try:
            return build(items, self.limits)
        except RDBFormatError as e:
            raise self.fail(str(e)) from None

    def _quicklist(self, type_byte: int) -> ListValue | None:
        nodes = self.length()
        items: list[bytes] = []
        for _ in range(nodes):
            container = f.QUICKLIST_NODE_PACKED
            if type_byte == f.TYPE_LIST_QUICKLIST_2:
                container = self.length()
                if container not in (f.QUICKLIST_NODE_PACKED, f.QUICKLIST_NODE_PLAIN):
                    raise self.fail("Quicklist integrity check failed")
            blob = self.string()
            if not blob:
                raise self.fail("empty quicklist node")
            if container == f.QUICKLIST_NODE_PLAIN:
                items.append(blob)
                continue
            decode = decode_listpack if type_byte == f.TYPE_LIST_QUICKLIST_2 else decode_ziplist
            try:
                items.extend(decode(blob))
            except RDBFormatError as e:
                raise self.fail(f"Quicklist node integrity check failed ({e})") from None
        return make_list(items) if items else None

    # --- opcodes that carry no key ---

    def skip_module_value(self) -> None:
        """Skip module data made of opcode-prefixed values up to MODULE_OPCODE_EOF."""
        while True:
            opcode = self.length()
            if opcode == f.MODULE_OPCODE_EOF:
                return
            if opcode in (f.MODULE_OPCODE_SINT, f.MODULE_OPCODE_UINT):
                self.length()
            elif opcode == f.MODULE_OPCODE_FLOAT:
                self.read(4)
            elif opcode == f.MODULE_OPCODE_DOUBLE:
                self.read(8)
            elif opcode == f.MODULE_OPCODE_STRING:
                self.string()
            else:
                raise self.fail(f"unknown module value opcode {opcode}")

    # --- the file ---

    def load(
        self,
        keyspace: Keyspace | None,
        *,
        now_ms: int | None = None,
        verify_checksum: bool = True,
        allow_duplicates: bool = False,
        chunk_keys: int = 2048,
    ) -> Generator[int, None, RDBLoadResult]:
        """Load a whole RDB into `keyspace`, yielding the offset reached every `chunk_keys` keys.

        Args:
            keyspace: where keys go (normally empty); None only checks the file.
            now_ms: drop keys whose deadline is before this time (a primary loading its own
                snapshot); None keeps every key (AOF base, replicas).
            verify_checksum: check the CRC64 trailer (`rdbchecksum`).
            allow_duplicates: a key loaded twice replaces the first (otherwise an error).
            chunk_keys: how many keys between two yields.

        Returns:
            An RDBLoadResult (through StopIteration; use `run_to_end` or `yield from`).

        Raises:
            RDBFormatError: malformed file, wrong checksum, or an unsupported value type.
        """
        result = RDBLoadResult()
        header = self.read(9)
        if header[:5] != f.MAGIC:
            raise self.fail("wrong signature trying to load DB from file")
        try:
            version = int(header[5:])
        except ValueError:
            raise self.fail("invalid RDB version") from None
        if version < 1 or version > f.RDB_MAX_READ_VERSION:
            raise self.fail(f"can't handle RDB format version {version}")
        result.version = version
        db = keyspace.dbs[0] if keyspace is not None else None
        databases = len(keyspace.dbs) if keyspace is not None else 1 << 32
        db_index = 0
        expire_ms = -1
        since_yield = 0
        crc = 0
        crc_pos = self.start
        # Into an empty keyspace duplicates are found by counting at the end (cheaper).
        fresh = keyspace is not None and not any(db.size() for db in keyspace.dbs)
        check_duplicates = not allow_duplicates and not fresh
        mv = memoryview(self.data) if verify_checksum else None
        data = self.data
        size = self.size
        try:
            unpack_q = _Q.unpack
            while True:
                pos = self.pos  # self.byte(), inline: one type byte per key
                if pos >= size:
                    raise self.fail("unexpected end of file")
                type_byte = data[pos]
                self.pos = pos + 1
                if type_byte < f.OPCODE_SLOT_INFO:  # a key: the common case first
                    key = self.string()
                    if type_byte == f.TYPE_STRING:
                        value: Any = self.string()
                    else:
                        value = self.value(type_byte, key)
                    if value is None:
                        result.empty_keys_skipped += 1
                        if result.empty_keys_skipped <= 10:
                            logger.warning(
                                "%s: skipping empty key: %s",
                                self.origin,
                                key.decode("utf-8", "backslashreplace"),
                            )
                    elif expire_ms != -1 and now_ms is not None and expire_ms < now_ms:
                        result.keys_expired += 1
                    else:
                        if db is not None:
                            if check_duplicates and db.peek(key) is not None:
                                raise self.fail(
                                    "RDB has duplicated key "
                                    f"'{key.decode('utf-8', 'backslashreplace')}' in DB {db_index}"
                                )
                            db.set(key, value, None if expire_ms == -1 else expire_ms)
                        result.keys_loaded += 1
                    expire_ms = -1
                    since_yield += 1
                    if since_yield >= chunk_keys:
                        since_yield = 0
                        if mv is not None:
                            crc = crc64(mv[crc_pos : self.pos], crc)
                            crc_pos = self.pos
                        yield self.pos
                    continue
                if type_byte == f.OPCODE_EXPIRETIME_MS:
                    expire_ms = unpack_q(self.read(8))[0]
                    continue
                if type_byte == f.OPCODE_EXPIRETIME:
                    expire_ms = int.from_bytes(self.read(4), "little", signed=True) * 1000
                    continue
                if type_byte == f.OPCODE_FREQ:
                    self.byte()
                    continue
                if type_byte == f.OPCODE_IDLE:
                    self.length()
                    continue
                if type_byte == f.OPCODE_EOF:
                    break
                if type_byte == f.OPCODE_SELECTDB:
                    db_index = self.length()
                    if db_index >= databases:
                        raise self.fail(
                            f"the data was created with more than {databases} databases"
                        )
                    if keyspace is not None:
                        db = keyspace.dbs[db_index]
                    continue
                if type_byte == f.OPCODE_RESIZEDB:
                    self.length()
                    self.length()
                    continue
                if type_byte == f.OPCODE_AUX:
                    aux_key = self.string()
                    aux_value = self.string()
                    result.aux[aux_key] = aux_value
                    if aux_key.startswith(b"%"):
                        logger.info("RDB '%s': %s", aux_key.decode(errors="replace"), aux_value)
                    continue
                if type_byte == f.OPCODE_MODULE_AUX:
                    module_id = self.length()
                    if self.length() != f.MODULE_OPCODE_UINT:
                        raise self.fail("bad when_opcode in module aux data")
                    self.length()
                    logger.warning(
                        "%s: skipping module aux data of module '%s' (modules are not supported)",
                        self.origin,
                        module_name(module_id),
                    )
                    self.skip_module_value()
                    continue
                if type_byte == f.OPCODE_FUNCTION2:
                    self.string()
                    logger.warning(
                        "%s: skipping a function library (functions are not supported)", self.origin
                    )
                    continue
                if type_byte == f.OPCODE_FUNCTION_PRE_GA:
                    raise self.fail("pre-release function format not supported")
                if type_byte == f.OPCODE_SLOT_INFO:
                    self.length()
                    self.length()
                    self.length()
                    continue
                raise self.fail(f"unknown opcode {type_byte}")
            if version >= 5:
                if mv is not None:
                    crc = crc64(mv[crc_pos : self.pos], crc)
                stored = int.from_bytes(self.read(8), "little")
                if verify_checksum:
                    if stored == 0:
                        logger.warning(
                            "RDB file was saved with checksum disabled: no check performed."
                        )
                    elif stored != crc:
                        raise self.fail(f"wrong RDB checksum expected: ({crc:x}) got: ({stored:x})")
                    else:
                        result.checksum_verified = True
        finally:
            if mv is not None:
                mv.release()
        if fresh and not allow_duplicates and keyspace is not None:
            stored = sum(db.size() for db in keyspace.dbs)
            if stored != result.keys_loaded:
                raise self.fail(f"RDB has {result.keys_loaded - stored} duplicated keys")
        result.end_offset = self.pos
        return result


def run_to_end(gen: Generator[Any, None, T]) -> T:
    """Drive a loading generator to its end and return its result."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]


def load_rdb(
    data: bytes | Any,
    keyspace: Keyspace | None,
    *,
    limits: EncodingLimits = DEFAULT_LIMITS,
    origin: str = "RDB",
    now_ms: int | None = None,
    verify_checksum: bool = True,
) -> RDBLoadResult:
    """Load a whole RDB held in `data` (bytes or an mmap) into `keyspace` in one go."""
    loader = RDBLoader(data, limits=limits, origin=origin)
    return run_to_end(loader.load(keyspace, now_ms=now_ms, verify_checksum=verify_checksum))


def check_rdb(data: bytes | Any, *, origin: str = "RDB") -> RDBLoadResult:
    """Parse a whole RDB without keeping it, checksum included: the validation `restore`
    runs before installing a file. Raises RDBFormatError when the file is unusable."""
    return load_rdb(data, None, origin=origin)
