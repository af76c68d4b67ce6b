"""Independent encoders for the compact encodings Redis writes (ziplist, listpack, intset,
zipmap) and for RDB records, written from the format descriptions so the decoders are
tested against bytes they did not produce."""

from __future__ import annotations

import struct

from persistence.codecs import crc64


def rdb_len(n: int) -> bytes:
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    if n <= 0xFFFFFFFF:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + n.to_bytes(8, "big")


def rdb_str(s: bytes) -> bytes:
    return rdb_len(len(s)) + s


# --- ziplist ---


def _zip_entry(prev_len: int, value: bytes | int) -> bytes:
    prev = bytes([prev_len]) if prev_len < 254 else b"\xfe" + prev_len.to_bytes(4, "little")
    if isinstance(value, int):
        if 0 <= value <= 12:
            enc = bytes([0xF1 + value])
        elif -128 <= value <= 127:
            enc = b"\xfe" + value.to_bytes(1, "little", signed=True)
        elif -32768 <= value <= 32767:
            enc = b"\xc0" + value.to_bytes(2, "little", signed=True)
        elif -(2**23) <= value < 2**23:
            enc = b"\xf0" + value.to_bytes(3, "little", signed=True)
        elif -(2**31) <= value < 2**31:
            enc = b"\xd0" + value.to_bytes(4, "little", signed=True)
        else:
            enc = b"\xe0" + value.to_bytes(8, "little", signed=True)
        return prev + enc
    n = len(value)
    if n < 64:
        head = bytes([n])
    elif n < 16384:
        head = bytes([0x40 | (n >> 8), n & 0xFF])
    else:
        head = b"\x80" + n.to_bytes(4, "big")
    return prev + head + value


def ziplist(values: list[bytes | int]) -> bytes:
    body = b""
    prev = 0
    tail = 10
    for value in values:
        entry = _zip_entry(prev, value)
        tail = 10 + len(body)
        body += entry
        prev = len(entry)
    total = 10 + len(body) + 1
    return struct.pack("<IIH", total, tail, min(len(values), 65535)) + body + b"\xff"


# --- listpack ---


def _backlen(n: int) -> bytes:
    if n < 128:
        return bytes([n])
    groups = []  # 7-bit groups, least significant first
    while n:
        groups.append(n & 127)
        n >>= 7
    # lpEncodeBacklen: most significant group first, every lower group with bit 7 set.
    return bytes([groups[-1], *(g | 128 for g in reversed(groups[:-1]))])


def _lp_entry(value: bytes | int) -> bytes:
    if isinstance(value, int):
        if 0 <= value <= 127:
            body = bytes([value])
        elif -4096 <= value <= 4095:
            v = value & 0x1FFF
            body = bytes([0xC0 | (v >> 8), v & 0xFF])
        elif -32768 <= value <= 32767:
            body = b"\xf1" + value.to_bytes(2, "little", signed=True)
        elif -(2**23) <= value < 2**23:
            body = b"\xf2" + value.to_bytes(3, "little", signed=True)
        elif -(2**31) <= value < 2**31:
            body = b"\xf3" + value.to_bytes(4, "little", signed=True)
        else:
            body = b"\xf4" + value.to_bytes(8, "little", signed=True)
    else:
        n = len(value)
        if n < 64:
            body = bytes([0x80 | n]) + value
        elif n < 4096:
            body = bytes([0xE0 | (n >> 8), n & 0xFF]) + value
        else:
            body = b"\xf0" + n.to_bytes(4, "little") + value
    return body + _backlen(len(body))


def listpack(values: list[bytes | int]) -> bytes:
    body = b"".join(_lp_entry(v) for v in values)
    total = 6 + len(body) + 1
    return struct.pack("<IH", total, min(len(values), 65535)) + body + b"\xff"


# --- intset ---


def intset(values: list[int], width: int | None = None) -> bytes:
    if width is None:
        width = 2
        for v in values:
            if not -(2**15) <= v < 2**15:
                width = max(width, 4)
            if not -(2**31) <= v < 2**31:
                width = 8
    fmt = {2: "h", 4: "i", 8: "q"}[width]
    ordered = sorted(values)
    return struct.pack(f"<II{len(ordered)}{fmt}", width, len(ordered), *ordered)


# --- zipmap ---


def _zm_len(n: int) -> bytes:
    return bytes([n]) if n < 254 else b"\xfe" + n.to_bytes(4, "little")


def zipmap(pairs: list[tuple[bytes, bytes]], free: int = 0) -> bytes:
    out = bytes([min(len(pairs), 254)])
    for field, value in pairs:
        out += _zm_len(len(field)) + field + _zm_len(len(value)) + bytes([free]) + value
        out += b"\x00" * free
    return out + b"\xff"


# --- whole files ---


def rdb_file(body: bytes, version: int = 10, checksum: bool = True) -> bytes:
    data = b"REDIS%04d" % version + body + b"\xff"
    return data + (crc64(data).to_bytes(8, "little") if checksum else bytes(8))
