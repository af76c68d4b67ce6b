"""Algorithms on string values: byte ranges, bit counting and search, BITOP, BITFIELD integers
and LCS.

Storage only: these functions take and return bytes and ints, and know nothing of RESP, of
replies or of error text. Bit 0 is the most significant bit of byte 0, as in Redis's SETBIT.
"""

from __future__ import annotations

from typing import Final

_U64: Final = (1 << 64) - 1

# --- byte ranges ---


def byte_range(start: int, end: int, length: int) -> tuple[int, int] | None:
    """Resolve GETRANGE-style inclusive indexes (negative from the end) against `length`.

    Follows getrangeCommand: two negative indexes with start > end are empty, then both are
    offset by `length`, clamped at 0, and `end` is capped at the last index.

    Returns:
        The (start, end) inclusive pair, or None when the range is empty.
    """
    if start < 0 and end < 0 and start > end:
        return None
    if start < 0:
        start += length
    if end < 0:
        end += length
    start = max(start, 0)
    end = max(end, 0)
    if end >= length:
        end = length - 1
    if start > end or length == 0:
        return None
    return start, end


def get_range(value: bytes | bytearray, start: int, end: int) -> bytes:
    """GETRANGE: the bytes from `start` to `end` inclusive (negative counts from the end)."""
    span = byte_range(start, end, len(value))
    if span is None:
        return b""
    return bytes(value[span[0] : span[1] + 1])


def set_range(value: bytearray, offset: int, data: bytes) -> None:
    """SETRANGE on a mutable value: write `data` at `offset`, zero-padding as needed."""
    end = offset + len(data)
    if end > len(value):
        value.extend(bytes(end - len(value)))
    value[offset:end] = data


# --- counting and searching bits ---


def popcount(data: bytes | bytearray) -> int:
    """The number of set bits in `data`."""
    return int.from_bytes(data, "big").bit_count()


def _edge_masks(start: int, end: int) -> tuple[int, int]:
    """The masks of the bits outside a bit range in its first and last byte."""
    first = ~((1 << (8 - (start & 7))) - 1) & 0xFF
    last = (1 << (7 - (end & 7))) - 1
    return first, last


def bit_count(value: bytes | bytearray, start: int, end: int, in_bits: bool) -> int:
    """BITCOUNT over an explicit range (bytes, or bits when `in_bits`), as bitcountCommand.

    `start` and `end` are the client's values, negative counting from the end.
    """
    if start < 0 and end < 0 and start > end:
        return 0
    total = len(value) * 8 if in_bits else len(value)
    if start < 0:
        start += total
    if end < 0:
        end += total
    start = max(start, 0)
    end = max(end, 0)
    if end >= total:
        end = total - 1
    first_mask = last_mask = 0
    if in_bits and start <= end:
        first_mask, last_mask = _edge_masks(start, end)
        start >>= 3
        end >>= 3
    if start > end:
        return 0
    count = popcount(value[start : end + 1])
    if first_mask:
        count -= (value[start] & first_mask).bit_count()
    if last_mask:
        count -= (value[end] & last_mask).bit_count()
    return count


def first_bit(data: bytes | bytearray, bit: int) -> int:
    """Redis's redisBitpos: the first position of `bit` in `data`.

    The data is taken as zero padded on the right, so looking for a 0 in all-ones data gives
    len(data) * 8; looking for a 1 in all-zeros data gives -1.
    """
    rest = data.lstrip(b"\xff" if bit == 0 else b"\x00")
    index = len(data) - len(rest)
    if not rest:
        return -1 if bit else index * 8
    byte = rest[0] if bit else rest[0] ^ 0xFF
    return index * 8 + 8 - byte.bit_length()


def bit_position(
    value: bytes | bytearray, bit: int, start: int, end: int | None, in_bits: bool
) -> int:
    """BITPOS with an explicit start (and maybe end), following bitposCommand step by step.

    Args:
        value: the string.
        bit: 0 or 1.
        start: the client's start, negative counting from the end.
        end: the client's end, or None when it was not given.
        in_bits: the range is in bits (BIT) rather than bytes.

    Returns:
        The absolute bit position, or -1.
    """
    total = len(value)
    end_given = end is not None
    if end is None:
        end = total * 8 + 7 if in_bits else total - 1
    if in_bits:
        total <<= 3
    if start < 0:
        start += total
    if end < 0:
        end += total
    start = max(start, 0)
    end = max(end, 0)
    if end >= total:
        end = total - 1
    first_mask = last_mask = 0
    if in_bits and start <= end:
        first_mask, last_mask = _edge_masks(start, end)
        start >>= 3
        end >>= 3
    if start > end:
        return -1
    pos, start, count = _masked_search(value, bit, start, end, first_mask, last_mask)
    # With an explicit end, running off the range while looking for a 0 is "not found"
    # rather than the zero padding beyond the string.
    if end_given and bit == 0 and pos == count * 8:
        return -1
    if pos != -1:
        pos += start * 8
    return pos


def _masked_search(
    value: bytes | bytearray,
    bit: int,
    start: int,
    end: int,
    first_mask: int,
    last_mask: int,
) -> tuple[int, int, int]:
    """The search part of bitposCommand: (position from `start`, start, bytes left there)."""
    count = end - start + 1
    if first_mask:
        byte = value[start] & ~first_mask if bit else value[start] | first_mask
        if last_mask and count == 1:
            byte = byte & ~last_mask if bit else byte | last_mask
        pos = first_bit(bytes((byte & 0xFF,)), bit)
        if count == 1 or (pos != -1 and pos != 8):
            return pos, start, count
        start += 1
        count -= 1
    whole = count - (1 if last_mask else 0)
    if whole > 0:
        pos = first_bit(value[start : start + whole], bit)
        if count == whole or (pos != -1 and pos != whole * 8):
            return pos, start, count
        start += whole
        count -= whole
    byte = value[end] & ~last_mask if bit else value[end] | last_mask
    return first_bit(bytes((byte & 0xFF,)), bit), start, count


# --- BITOP ---


def bit_op(op: bytes, sources: list[bytes | bytearray]) -> bytes:
    """BITOP AND / OR / XOR / NOT over `sources` (missing keys as b""), zero-padded to the
    longest; NOT takes exactly one source. Returns b"" when every source is empty."""
    size = max(map(len, sources))
    if not size:
        return b""
    values = [int.from_bytes(bytes(s).ljust(size, b"\0"), "big") for s in sources]
    result = values[0]
    if op == b"NOT":
        result = ~result & ((1 << (size * 8)) - 1)
    elif op == b"AND":
        for v in values[1:]:
            result &= v
    elif op == b"OR":
        for v in values[1:]:
            result |= v
    else:
        for v in values[1:]:
            result ^= v
    return result.to_bytes(size, "big")


# --- BITFIELD integers ---

OVERFLOW_WRAP: Final = 0
OVERFLOW_SAT: Final = 1
OVERFLOW_FAIL: Final = 2


def get_unsigned(data: bytes | bytearray, offset: int, bits: int) -> int:
    """The `bits`-wide unsigned integer at bit `offset`; bits past the end read as 0."""
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    chunk = bytes(data[first : last + 1]).ljust(last - first + 1, b"\0")
    shift = (last - first + 1) * 8 - (offset & 7) - bits
    return (int.from_bytes(chunk, "big") >> shift) & ((1 << bits) - 1)


def get_signed(data: bytes | bytearray, offset: int, bits: int) -> int:
    """The `bits`-wide two's complement integer at bit `offset`."""
    value = get_unsigned(data, offset, bits)
    if value >> (bits - 1):
        value -= 1 << bits
    return value


def set_bits(data: bytearray, offset: int, bits: int, value: int) -> None:
    """Store the low `bits` bits of `value` at bit `offset` (`data` already long enough)."""
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    width = (last - first + 1) * 8
    shift = width - (offset & 7) - bits
    mask = ((1 << bits) - 1) << shift
    old = int.from_bytes(data[first : last + 1], "big")
    new = (old & ~mask) | ((value << shift) & mask)
    data[first : last + 1] = new.to_bytes(width // 8, "big")


def _int64(value: int) -> int:
    """`value` as C's int64_t after unsigned wraparound."""
    value &= _U64
    return value - (1 << 64) if value >> 63 else value


def unsigned_overflow(value: int, incr: int, bits: int, mode: int) -> tuple[int, int]:
    """checkUnsignedBitfieldOverflow with C's 64-bit arithmetic.

    Args:
        value: the current (INCRBY) or requested (SET, with incr 0) value as a uint64.
        incr: the int64 increment.
        bits: the field width, 1..63.
        mode: OVERFLOW_WRAP, OVERFLOW_SAT or OVERFLOW_FAIL.

    Returns:
        (direction, limit): direction 0 when the result fits, 1 on overflow, -1 on underflow;
        limit is the value to store instead under WRAP or SAT.
    """
    top = (1 << bits) - 1
    max_incr = _int64(top - value)
    min_incr = _int64(-value)
    if value > top or (incr > 0 and incr > max_incr):
        direction = 1
    elif incr < 0 and incr < min_incr:
        direction = -1
    else:
        return 0, 0
    if mode == OVERFLOW_WRAP:
        return direction, ((value + incr) & _U64) & top
    return direction, (top if direction > 0 else 0)


def signed_overflow(value: int, incr: int, bits: int, mode: int) -> tuple[int, int]:
    """checkSignedBitfieldOverflow with C's 64-bit arithmetic (see `unsigned_overflow`).

    `value` and `incr` are int64. C's wraparound in the increment bounds is reproduced, so a
    SET of a very negative value into a narrow field saturates to the maximum, as in Redis.
    """
    top = (1 << (bits - 1)) - 1
    bottom = -top - 1
    max_incr = _int64(top - value)
    min_incr = _int64(bottom - value)
    if (
        value > top
        or (bits != 64 and incr > max_incr)
        or (value >= 0 and incr > 0 and incr > max_incr)
    ):
        direction = 1
    elif (
        value < bottom
        or (bits != 64 and incr < min_incr)
        or (value < 0 and incr < 0 and incr < min_incr)
    ):
        direction = -1
    else:
        return 0, 0
    if mode == OVERFLOW_WRAP:
        wrapped = (value + incr) & _U64
        if bits < 64:
            wrapped &= (1 << bits) - 1
            if wrapped >> (bits - 1):
                wrapped -= 1 << bits
            return direction, wrapped
        return direction, _int64(wrapped)
    return direction, (top if direction > 0 else bottom)


# --- LCS ---
#
# Strategy: Redis fills an (n+1) x (m+1) table of LCS lengths and walks it back from the
# corner. A Python table of that size is far too slow, so the lengths come from the
# bit-parallel algorithm (Allison-Dix, in Hyyro's form): for each prefix of the shorter
# string one int over the longer string, whose zero bits below position t count the LCS of
# that prefix with the first t bytes. The walk back reads the same lengths Redis reads, so it
# takes the same path and reports the same ranges, and it costs one popcount per step along
# the shorter string and O(1) per step along the longer one.


class LcsTable:
    """The LCS lengths of every pair of prefixes of `a` and `b`, as Redis's table holds them."""

    def __init__(self, a: bytes | bytearray, b: bytes | bytearray, *, keep_rows: bool) -> None:
        self.a = a
        self.b = b
        # Vectors run over the longer string ("long"), one per prefix of the shorter ("short").
        self.a_is_short = len(a) <= len(b)
        short, long_ = (a, b) if self.a_is_short else (b, a)
        self.long_len = len(long_)
        full = (1 << len(long_)) - 1
        masks: dict[int, int] = {}
        vector = full
        rows = [vector]
        for ch in short:
            mask = masks.get(ch)
            if mask is None:
                # The positions of `ch` in the long string as bits, position 0 lowest.
                mask = 0
                if ch in long_:
                    marks = long_.translate(bytes(49 if x == ch else 48 for x in range(256)))
                    mask = int(marks[::-1], 2)
                masks[ch] = mask
            matched = vector & mask
            vector = ((vector + matched) | (vector - matched)) & full
            if keep_rows:
                rows.append(vector)
        self.rows = rows
        self.length = self.long_len - vector.bit_count()

    def matches(self) -> tuple[bytes, list[tuple[int, int, int, int]]]:
        """Walk back from the corner as lcsCommand does.

        Returns:
            The LCS itself and every range of contiguous matches as
            (a_start, a_end, b_start, b_end), in the order Redis emits them.
        """
        a, b = self.a, self.b
        alen, blen = len(a), len(b)
        walker = _Walker(self)
        out = bytearray()
        ranges: list[tuple[int, int, int, int]] = []
        i, j = alen, blen
        a_start = alen  # alen means no range is open
        a_end = b_start = b_end = 0
        while i > 0 and j > 0:
            emit = False
            if a[i - 1] == b[j - 1]:
                out.append(a[i - 1])
                if a_start == alen:
                    a_start = a_end = i - 1
                    b_start = b_end = j - 1
                elif a_start == i and b_start == j:
                    a_start -= 1
                    b_start -= 1
                else:
                    emit = True
                if a_start == 0 or b_start == 0:
                    emit = True
                i -= 1
                j -= 1
                walker.step_both()
            else:
                if walker.up() > walker.left():
                    i -= 1
                    walker.step_i()
                else:
                    j -= 1
                    walker.step_j()
                if a_start != alen:
                    emit = True
            if emit:
                ranges.append((a_start, a_end, b_start, b_end))
                a_start = alen
        out.reverse()
        return bytes(out), ranges


class _Walker:
    """LCS(i-1, j) and LCS(i, j-1) while (i, j) walks back from (len(a), len(b))."""

    def __init__(self, table: LcsTable) -> None:
        self.rows = table.rows
        self.a_is_short = table.a_is_short
        self.k = len(table.rows) - 1  # index along the short string
        self.t = table.long_len  # index along the long string
        self._bits: dict[int, bytes] = {}
        self._width = (table.long_len + 7) // 8 or 1
        self.cur = table.length  # LCS(short[:k], long[:t])
        self.below = self._fresh(self.k - 1)  # LCS(short[:k-1], long[:t])

    def _fresh(self, k: int) -> int:
        if k <= 0:
            return 0
        return self.t - (self.rows[k] & ((1 << self.t) - 1)).bit_count()

    def _bit(self, k: int, pos: int) -> int:
        """Bit `pos` of row k: 1 when LCS(k, pos + 1) == LCS(k, pos)."""
        if k <= 0:
            return 1
        data = self._bits.get(k)
        if data is None:
            # k only goes down: rows above k + 1 are never read again.
            for stale in [x for x in self._bits if x > k + 1]:
                del self._bits[stale]
            data = self._bits[k] = self.rows[k].to_bytes(self._width, "little")
        return (data[pos >> 3] >> (pos & 7)) & 1

    def _long_back(self) -> None:
        """t -= 1, keeping cur and below."""
        pos = self.t - 1
        self.cur -= 1 - self._bit(self.k, pos)
        self.below -= 1 - self._bit(self.k - 1, pos)
        self.t = pos

    def _short_back(self) -> None:
        """k -= 1."""
        self.k -= 1
        self.cur = self.below
        self.below = self._fresh(self.k - 1)

    def _long_peek(self) -> int:
        """LCS(short[:k], long[:t-1])."""
        return self.cur - (1 - self._bit(self.k, self.t - 1))

    def up(self) -> int:
        """LCS(i-1, j)."""
        return self.below if self.a_is_short else self._long_peek()

    def left(self) -> int:
        """LCS(i, j-1)."""
        return self._long_peek() if self.a_is_short else self.below

    def step_i(self) -> None:
        if self.a_is_short:
            self._short_back()
        else:
            self._long_back()

    def step_j(self) -> None:
        if self.a_is_short:
            self._long_back()
        else:
            self._short_back()

    def step_both(self) -> None:
        self._long_back()
        self._short_back()
