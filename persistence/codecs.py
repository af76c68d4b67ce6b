"""Byte-level codecs of the RDB format: CRC64, LZF, and the compact encodings Redis stores
inside string blobs (ziplist, listpack, intset, zipmap).

No I/O and no keyspace here: bytes in, Python values out. Decoders raise `RDBFormatError`
for anything malformed, never IndexError, so a damaged file reads as "corrupt" with a reason.

CRC64 and LZF come from maintained C extensions: `anycrc` (its "CRC64-REDIS" model is Redis's
Jones polynomial, reflected, initial value 0; a running CRC continues by passing the previous
value as `init`) and `lzf` (python-neo-lzf, the liblzf 3.6 code Redis also vendors).
"""

from __future__ import annotations

import struct
from typing import Final

import anycrc
import lzf

from persistence.format import LP_EOF, LP_HEADER_SIZE, ZIP_END, ZIPMAP_BIGLEN, ZIPMAP_END


class RDBFormatError(Exception):
    """The bytes are not a valid RDB (or DUMP payload, or compact encoding)."""


# --- CRC64 ---

_CRC64: Final = anycrc.Model("CRC64-REDIS")


def crc64(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """Redis's crc64(crc, data): continue the running CRC `crc` over `data`.

    Args:
        data: any contiguous buffer (bytes, bytearray, memoryview, mmap).
        crc: the CRC of everything before `data` (0 at the start).

    Returns:
        The CRC of the concatenation.
    """
    return int(_CRC64.calc(data, crc))


# --- LZF ---


def lzf_compress(data: bytes, max_bytes: int) -> bytes | None:
    """LZF-compress `data` into at most `max_bytes`, or None if it does not fit.

    Redis compresses a string only when it saves at least four bytes (rdbSaveLzfStringObject
    gives lzf_compress an output buffer of len - 4); pass `len(data) - 4` for that rule.
    """
    if max_bytes <= 0:
        return None
    # python-lzf lets the output grow to max_length + 1 bytes, hence the - 1.
    if max_bytes == 1:
        return None
    out = lzf.compress(data, max_bytes - 1)
    return out if out is not None and len(out) <= max_bytes else None


def lzf_decompress(data: bytes, size: int) -> bytes:
    """Expand an LZF block that must decompress to exactly `size` bytes.

    Raises:
        RDBFormatError: the block is damaged or has another length.
    """
    if size == 0:
        return b""
    try:
        out = lzf.decompress(data, size)
    except ValueError as e:
        raise RDBFormatError("invalid LZF compressed string") from e
    if out is None or len(out) != size:
        raise RDBFormatError("invalid LZF compressed string")
    return bytes(out)


# --- intset ---

_INTSET_FORMATS: Final = {2: "h", 4: "i", 8: "q"}


def decode_intset(blob: bytes) -> list[bytes]:
    """The members of an intset: <u32 LE width><u32 LE count><count LE signed ints>."""
    if len(blob) < 8:
        raise RDBFormatError("intset too short")
    width, count = struct.unpack_from("<II", blob, 0)
    fmt = _INTSET_FORMATS.get(width)
    if fmt is None:
        raise RDBFormatError(f"intset with invalid encoding {width}")
    if len(blob) != 8 + width * count:
        raise RDBFormatError("intset length does not match its size")
    values = struct.unpack_from(f"<{count}{fmt}", blob, 8)
    return [b"%d" % v for v in values]


# --- ziplist ---

_ZIP_INTS: Final = {
    0xC0: (2, "<h"),
    0xD0: (4, "<i"),
    0xE0: (8, "<q"),
    0xFE: (1, "<b"),
}


def decode_ziplist(blob: bytes) -> list[bytes]:
    """The entries of a ziplist, integers as decimal bytes.

    Layout: <u32 zlbytes><u32 zltail><u16 zllen> entries 0xFF, each entry being
    <prevlen: 1 byte, or 0xFE + u32><encoding><data>.
    """
    n = len(blob)
    if n < 11 or blob[-1] != ZIP_END:
        raise RDBFormatError("ziplist without header or end marker")
    out: list[bytes] = []
    pos = 10
    unpack = struct.unpack_from
    while True:
        if pos >= n:
            raise RDBFormatError("ziplist entry past the end")
        b = blob[pos]
        if b == ZIP_END:
            if pos != n - 1:
                raise RDBFormatError("ziplist end marker before the end")
            return out
        pos += 5 if b == 0xFE else 1
        if pos >= n:
            raise RDBFormatError("ziplist entry past the end")
        enc = blob[pos]
        kind = enc >> 6
        if kind == 0:
            size = enc & 0x3F
            pos += 1
        elif kind == 1:
            if pos + 2 > n:
                raise RDBFormatError("ziplist entry past the end")
            size = ((enc & 0x3F) << 8) | blob[pos + 1]
            pos += 2
        elif enc == 0x80:
            if pos + 5 > n:
                raise RDBFormatError("ziplist entry past the end")
            size = int.from_bytes(blob[pos + 1 : pos + 5], "big")
            pos += 5
        else:
            pos += 1
            if 0xF1 <= enc <= 0xFD:
                out.append(b"%d" % ((enc & 0x0F) - 1))
                continue
            if enc == 0xF0:
                if pos + 3 > n:
                    raise RDBFormatError("ziplist entry past the end")
                value = int.from_bytes(blob[pos : pos + 3], "little", signed=True)
                pos += 3
            else:
                spec = _ZIP_INTS.get(enc)
                if spec is None or pos + spec[0] > n:
                    raise RDBFormatError(f"ziplist entry with invalid encoding 0x{enc:02x}")
                value = unpack(spec[1], blob, pos)[0]
                pos += spec[0]
            out.append(b"%d" % value)
            continue
        end = pos + size
        if end > n:
            raise RDBFormatError("ziplist string past the end")
        out.append(blob[pos:end])
        pos = end


# --- listpack ---


def _backlen_size(entry_bytes: int) -> int:
    if entry_bytes < 128:
        return 1
    if entry_bytes < 16384:
        return 2
    if entry_bytes < 2097152:
        return 3
    if entry_bytes < 268435456:
        return 4
    return 5


def decode_listpack(blob: bytes) -> list[bytes]:
    """The entries of a listpack, integers as decimal bytes.

    Layout: <u32 total bytes><u16 count> entries 0xFF, each entry being
    <encoding + data><backlen: 1 to 5 bytes>.
    """
    n = len(blob)
    if n < LP_HEADER_SIZE + 1 or blob[-1] != LP_EOF:
        raise RDBFormatError("listpack without header or end marker")
    if int.from_bytes(blob[0:4], "little") != n:
        raise RDBFormatError("listpack size does not match its header")
    out: list[bytes] = []
    append = out.append
    pos = LP_HEADER_SIZE
    while True:
        if pos >= n:
            raise RDBFormatError("listpack entry past the end")
        b = blob[pos]
        if b < 0x80:  # 0xxxxxxx: 7-bit unsigned integer
            append(b"%d" % b)
            pos += 2
            continue
        if b < 0xC0:  # 10xxxxxx: string, 6-bit length
            start = pos + 1
            end = start + (b & 0x3F)
            header = 1
        elif b < 0xE0:  # 110xxxxx yyyyyyyy: 13-bit signed integer
            if pos + 2 > n:
                raise RDBFormatError("listpack entry past the end")
            value = ((b & 0x1F) << 8) | blob[pos + 1]
            if value >= 1 << 12:
                value -= 1 << 13
            append(b"%d" % value)
            pos += 3
            continue
        elif b < 0xF0:  # 1110xxxx yyyyyyyy: string, 12-bit length
            if pos + 2 > n:
                raise RDBFormatError("listpack entry past the end")
            start = pos + 2
            end = start + (((b & 0x0F) << 8) | blob[pos + 1])
            header = 2
        elif b == 0xF0:  # string, 32-bit length
            if pos + 5 > n:
                raise RDBFormatError("listpack entry past the end")
            start = pos + 5
            end = start + int.from_bytes(blob[pos + 1 : pos + 5], "little")
            header = 5
        elif b == LP_EOF:
            if pos != n - 1:
                raise RDBFormatError("listpack end marker before the end")
            return out
        elif 0xF1 <= b <= 0xF4:  # 16, 24, 32 or 64-bit signed integer
            width = (2, 3, 4, 8)[b - 0xF1]
            if pos + 1 + width > n:
                raise RDBFormatError("listpack entry past the end")
            append(b"%d" % int.from_bytes(blob[pos + 1 : pos + 1 + width], "little", signed=True))
            pos += 1 + width + 1
            continue
        else:
            raise RDBFormatError(f"listpack entry with invalid encoding 0x{b:02x}")
        if end > n:
            raise RDBFormatError("listpack string past the end")
        append(blob[start:end])
        pos = end + _backlen_size(end - start + header)


# --- zipmap ---


def decode_zipmap(blob: bytes) -> list[bytes]:
    """Field, value, field, value... of a zipmap (hashes in Redis < 2.6).

    Layout: <u8 count> then <len>field<len><u8 free>value<free bytes>, ended by 0xFF; a
    length below 254 is one byte, 254 announces a u32.
    """
    n = len(blob)
    out: list[bytes] = []
    pos = 1
    while True:
        for is_value in (False, True):
            if pos >= n:
                raise RDBFormatError("zipmap entry past the end")
            b = blob[pos]
            if b == ZIPMAP_END:
                if is_value or pos != n - 1:
                    raise RDBFormatError("zipmap ended inside an entry")
                return out
            if b == ZIPMAP_BIGLEN:
                size = int.from_bytes(blob[pos + 1 : pos + 5], "little")
                pos += 5
            else:
                size = b
                pos += 1
            free = 0
            if is_value:
                if pos >= n:
                    raise RDBFormatError("zipmap entry past the end")
                free = blob[pos]
                pos += 1
            end = pos + size
            if end > n:
                raise RDBFormatError("zipmap string past the end")
            out.append(blob[pos:end])
            pos = end + free
