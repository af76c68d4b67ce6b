"""The hash type: a dict of field -> value bytes. Storage only."""

from __future__ import annotations

from storage.values import register_type


class HashValue(dict[bytes, bytes]):
    """A Redis hash. `big` becomes True once it outgrows the listpack limits (it never shrinks
    back, as in Redis)."""

    __slots__ = ("big",)

    def __init__(self) -> None:
        super().__init__()
        self.big = False


register_type(HashValue, b"hash", lambda value: b"hashtable" if value.big else b"listpack")
