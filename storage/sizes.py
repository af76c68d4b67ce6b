"""Memory estimates for stored values, in bytes of CPython objects. Storage only.

Strategy: an estimate must cost O(1) whatever the size of the value, because the keyspace
keeps a running total (`Database.used`) that every write adjusts. So:

* A `bytes` string is exact: the object header plus its length.
* A `bytearray` is exact too (`sys.getsizeof` reports its allocation).
* A container is its table (`sys.getsizeof`, which CPython answers without walking the
  elements) plus its length times the average size of a few sampled elements, as Redis's
  MEMORY USAGE samples nested values (objectComputeSize).
* Anything else (a type this module does not know) counts as `sys.getsizeof`.

Every key also pays for its dict entry and the key object itself (`entry_size`), and a key with
a deadline pays for its entry in the expiry dict and the int object (`EXPIRE_ENTRY`).
"""

from __future__ import annotations

import sys
from collections import deque
from itertools import islice
from typing import Any, Final

from storage.zset import ZSet

BYTES_HEADER: Final = sys.getsizeof(b"")  # 33 on 64-bit CPython
# One slot of a dict's entry table (hash, key, value) plus its share of the index and of the
# free space a dict keeps (load factor 2/3).
DICT_ENTRY: Final = 36
# An entry in the expiry dict plus the int object holding the deadline (ms values need 32 bytes).
EXPIRE_ENTRY: Final = DICT_ENTRY + sys.getsizeof(2**40)
_FLOAT: Final = sys.getsizeof(1.0)
_PAIR: Final = sys.getsizeof((1.0, b""))
_POINTER: Final = 8
DEFAULT_SAMPLES: Final = 5


def entry_size(key: bytes) -> int:
    """What a key costs apart from its value: its dict entry and the key object."""
    return DICT_ENTRY + BYTES_HEADER + len(key)


def _avg(sizes: list[int]) -> float:
    return sum(sizes) / len(sizes) if sizes else 0.0


def value_size(value: Any, samples: int = DEFAULT_SAMPLES) -> int:
    """Estimated bytes held by a stored value (see the module docstring).

    Args:
        value: the stored object.
        samples: how many elements of a container to look at; 0 means all of them.

    Returns:
        The estimate in bytes.
    """
    t = type(value)
    if t is bytes:
        return BYTES_HEADER + len(value)
    if t is bytearray:
        return sys.getsizeof(value)
    getsize = sys.getsizeof
    n = len(value) if hasattr(value, "__len__") else 0
    take = n if samples <= 0 else min(samples, n)
    if isinstance(value, ZSet):
        members = list(islice(value.by_member, take))
        per = _avg([getsize(m) for m in members]) + _FLOAT + _PAIR + _POINTER
        return getsize(value.by_member) + 2 * getsize(value) + int(n * per)
    if isinstance(value, dict):
        pairs = list(islice(value.items(), take))
        per = _avg([getsize(k) + getsize(v) for k, v in pairs])
        return getsize(value) + int(n * per)
    if isinstance(value, (set, frozenset)):
        per = _avg([getsize(m) for m in islice(value, take)])
        return getsize(value) + int(n * per)
    if isinstance(value, deque):
        # Both ends, as a deque has no cheap middle.
        half = max(1, take // 2) if take else 0
        picked = list(islice(value, half)) + list(islice(reversed(value), take - half))
        per = _avg([getsize(m) for m in picked])
        return getsize(value) + int(n * per)
    return getsize(value)
