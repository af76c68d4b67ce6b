"""memcached flags and CAS in snapshots: the `duocache-mcmeta` RDB aux field.

A memcached item is a Redis string; its 32-bit client flags and its CAS value live in side
tables of database 0. An RDB keeps them in one aux field that real Redis skips (aux fields it
does not know are ignored by contract), so the file still loads there as plain strings.

Blob layout: a sequence of records `<key><flags><cas>`, the key as an RDB length followed by
its bytes and both numbers as RDB lengths (1 to 9 bytes each). Only keys that need metadata
appear. The AOF carries the same facts as `PUBLISH __duocache:mcmeta "<flags> <cas> <key>"`
effects (persistence/aof.py).
"""

from __future__ import annotations

from persistence.codecs import RDBFormatError

McMeta = dict[bytes, tuple[int, int]]


def _put_len(buf: bytearray, n: int) -> None:
    if n < 64:
        buf.append(n)
    elif n < 16384:
        buf.append(0x40 | (n >> 8))
        buf.append(n & 0xFF)
    elif n <= 0xFFFFFFFF:
        buf.append(0x80)
        buf += n.to_bytes(4, "big")
    else:
        buf.append(0x81)
        buf += n.to_bytes(8, "big")


def encode_mcmeta(table: McMeta | None) -> bytes:
    """The aux value for `table` (key -> (flags, cas))."""
    buf = bytearray()
    for key, (flags, cas) in (table or {}).items():
        _put_len(buf, len(key))
        buf += key
        _put_len(buf, flags)
        _put_len(buf, cas)
    return bytes(buf)


def decode_mcmeta(blob: bytes) -> McMeta:
    """The table an `encode_mcmeta` blob holds.

    Raises:
        RDBFormatError: the blob is malformed.
    """
    out: McMeta = {}
    pos = 0
    n = len(blob)

    def length() -> int:
        nonlocal pos
        if pos >= n:
            raise RDBFormatError("memcached metadata truncated")
        b = blob[pos]
        kind = b >> 6
        if kind == 0:
            pos += 1
            return b & 0x3F
        if kind == 1:
            if pos + 2 > n:
                raise RDBFormatError("memcached metadata truncated")
            pos += 2
            return ((b & 0x3F) << 8) | blob[pos - 1]
        width = {0x80: 4, 0x81: 8}.get(b)
        if width is None or pos + 1 + width > n:
            raise RDBFormatError("memcached metadata malformed")
        pos += 1 + width
        return int.from_bytes(blob[pos - width : pos], "big")

    while pos < n:
        size = length()
        if pos + size > n:
            raise RDBFormatError("memcached metadata truncated")
        key = blob[pos : pos + size]
        pos += size
        flags = length()
        cas = length()
        out[key] = (flags, cas)
    return out
