"""The list type: a deque of bytes. Storage only: no replies, no RESP."""

from __future__ import annotations

from collections import deque

from storage.values import register_type


class ListValue(deque[bytes]):
    """A Redis list. Redis 7.0 reports every list as "quicklist"."""

    __slots__ = ()


register_type(ListValue, b"list", lambda value: b"quicklist")
