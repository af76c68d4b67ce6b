"""The set type: a Python set of bytes. Storage only."""

from __future__ import annotations

from storage.values import register_type


class SetValue(set[bytes]):
    """A Redis set. `big` becomes True once it can no longer be an intset (never shrinks back)."""

    __slots__ = ("big",)

    def __init__(self) -> None:
        super().__init__()
        self.big = False


register_type(SetValue, b"set", lambda value: b"hashtable" if value.big else b"intset")
