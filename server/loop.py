"""Event loop selection: uvloop when it can be imported, asyncio otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


def loop_factory(kind: str = "auto") -> Callable[[], asyncio.AbstractEventLoop]:
    """A loop factory for asyncio.Runner: "auto" | "uvloop" | "asyncio"."""
    if kind in ("auto", "uvloop"):
        try:
            import uvloop
        except ImportError:
            if kind == "uvloop":
                raise
        else:
            return uvloop.new_event_loop
    return asyncio.new_event_loop
