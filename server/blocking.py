"""Blocking commands: parking a client on keys, serving it when a key is ready, timeouts.

This module owns the waiting; the command families own what "ready" means. It is generic:
the list commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) and the sorted-set ones
(BZPOPMIN, BZPOPMAX, BZMPOP, in server/commands/zpops.py) use it.

How a blocking command uses it
------------------------------

A handler first tries to answer at once, exactly like its non-blocking form (and propagates
that form through `ctx.propagate`). When it cannot, it returns a `Block` instead of a reply:

    return Block(keys, parse_timeout(argv[-1]), retry, timeout_reply=NULL_ARRAY)

* `keys`: the keys to wait on, in the client's order (duplicates are ignored).
* `timeout_ms`: from `parse_timeout` (Redis's seconds-as-a-double rules); 0 waits forever.
* `retry(ctx, key)`: called with the blocked client's context when `key` may have become
  ready. It either serves the client from `key` and returns the reply, or returns
  `NOT_READY` (the key is absent, empty, or of a type this command does not pop from) and
  changes nothing. When it serves, it does what the command does in Redis's
  serveClientsBlockedOn*Key: the change itself, `ctx.notify` events, `ctx.dirty`, one
  `ctx.propagate(argv)` per effect (the non-blocking command, e.g. `LPOP key`; the
  original blocking argv is never propagated), and `ctx.db.modified(k)` for every key it
  wrote (WATCH); a destination it creates (BLMOVE) wakes the next waiter by itself. It
  may return an error value (a `RespError`) to end the wait with an error, as BLMOVE
  does when its destination holds the wrong type.
* `timeout_reply`: what the client gets on timeout or `CLIENT UNBLOCK id TIMEOUT`.
* `denied_reply`: what the command answers where it may not block (inside MULTI/EXEC, in a
  script, or for a client without a connection); defaults to `timeout_reply`.

Strategy
--------

* Waiting clients are recorded per database and key in `Database.blocked`
  (key -> insertion-ordered waiters), so clients blocked on a key are served first come,
  first served (Redis's db->blocking_keys).
* A key with waiters is signalled when it comes into existence (`Database.set` over no
  key calls `Keyspace.on_ready`), as Redis 7.0's dbAdd does, and when SWAPDB brings it in.
  Overwriting a key does not signal: a client blocked on a key that holds a string stays
  blocked when SORT STORE or ZUNIONSTORE replaces the string with a list or a sorted set,
  exactly as in Redis 7.0. Serving re-checks the key's type and content, so a signal for a
  key of another type serves nobody. Every path that creates a key (pushes, ZADD, RENAME,
  MOVE, COPY, stores into a new key, EXEC, replication) wakes waiters without knowing
  about them.
* Signalled keys queue up in `ready` (each once) and are served by `handle_ready_keys`,
  which `dispatch.execute` calls after every top-level command: after a single command,
  after a whole MULTI/EXEC, after a whole script, as Redis's handleClientsBlockedOnKeys.
  Serving a BLMOVE pushes to its destination, which queues that key for another round.
* A parked client's later pipelined commands stay unread in its parser until it is served,
  times out or is unblocked; then the connection resumes them on the next loop iteration
  (Redis's unblocked_clients list).
* Each client with a timeout has one `loop.call_at` timer, cancelled when it is woken; no
  polling. Nothing is popped for a client until it is actually served, so a client that
  disconnects while blocked loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final

from protocol.resp import NULL_ARRAY, RespError
from server.context import NO_REPLY
from server.errors import (
    ERR_INTERNAL,
    ERR_TIMEOUT_NEGATIVE,
    ERR_TIMEOUT_NOT_FLOAT,
    ERR_UNBLOCKED_BY_CLIENT,
    CommandError,
    storage_error_text,
)
from storage.errors import StorageError
from storage.keyspace import Database

if TYPE_CHECKING:
    from server.app import App
    from server.commands.table import CommandSpec
    from server.context import CommandContext

logger = logging.getLogger(__name__)


class _NotReady:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_READY"


# What a retry returns when the key cannot serve this client (yet).
NOT_READY: Final = _NotReady()

Retry = Callable[["CommandContext", bytes], Any]


class Block:
    """A handler's answer meaning "wait for one of these keys" (see the module docstring).

    A wait that is not on keys (WAIT) gives no keys, computes its timeout reply when the
    time comes (`on_timeout`), and is ended by its owner with `Blocking.wake`.
    """

    __slots__ = ("denied_reply", "keys", "on_timeout", "retry", "timeout_ms", "timeout_reply")

    def __init__(
        self,
        keys: list[bytes],
        timeout_ms: int,
        retry: Retry,
        *,
        timeout_reply: Any = NULL_ARRAY,
        denied_reply: Any = NOT_READY,  # NOT_READY here: the same as timeout_reply
        on_timeout: Callable[[], Any] | None = None,
    ) -> None:
        self.keys = keys
        self.timeout_ms = timeout_ms
        self.retry = retry
        self.timeout_reply = timeout_reply
        self.denied_reply = timeout_reply if denied_reply is NOT_READY else denied_reply
        self.on_timeout = on_timeout

    def reply_on_timeout(self) -> Any:
        """What the client gets on timeout or `CLIENT UNBLOCK id TIMEOUT`."""
        return self.timeout_reply if self.on_timeout is None else self.on_timeout()


class Waiter:
    """One parked client."""

    __slots__ = ("block", "ctx", "db", "deadline", "keys", "spec", "timer")

    def __init__(
        self, ctx: CommandContext, block: Block, spec: CommandSpec | None, keys: list[bytes]
    ) -> None:
        self.ctx = ctx
        self.db: Database = ctx.db
        self.block = block
        self.spec = spec
        self.keys = keys
        self.deadline = 0.0  # loop time; 0 when waiting forever
        self.timer: asyncio.TimerHandle | None = None


# A timeout past ten years arms no timer: such a wait is as good as forever.
_MAX_TIMER_S: Final = 10 * 365 * 24 * 3600.0


class Blocking:
    """The blocked clients of one App, the keys ready to serve them, and their timers."""

    __slots__ = (
        "_ready_set",
        "app",
        "ready",
        "waiters",
    )

    def __init__(self, app: App) -> None:
        self.app = app
        # client id -> its Waiter, in blocking order.
        self.waiters: dict[int, Waiter] = {}
        # Keys signalled since the last handle_ready_keys, in order, each once.
        self.ready: list[tuple[Database, bytes]] = []
        self._ready_set: set[tuple[Database, bytes]] = set()
        app.keyspace.on_ready = self.signal_ready
        app.client_close_hooks.append(self.client_closed)

    # --- parking ---

    def block(self, ctx: CommandContext, block: Block) -> Any:
        """Park `ctx` on `block`'s keys and return NO_REPLY; or, if the client cannot be
        parked (no connection to resume it), the command's denied reply."""
        if ctx.unblocked is None or ctx.blocked is not None:
            return block.denied_reply
        keys = list(dict.fromkeys(block.keys))
        waiter = Waiter(ctx, block, ctx.current_spec, keys)
        blocked = waiter.db.blocked
        for key in keys:
            queue = blocked.get(key)
            if queue is None:
                blocked[key] = {waiter: None}
            else:
                queue[waiter] = None
        ctx.blocked = waiter
        self.waiters[ctx.id] = waiter
        if block.timeout_ms > 0:
            self._arm(waiter, block.timeout_ms / 1000)
        return NO_REPLY

    def _arm(self, waiter: Waiter, delay_s: float) -> None:
        if delay_s > _MAX_TIMER_S:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # In-process tests without a loop fire timeouts themselves (`time_out`).
            return
        waiter.deadline = loop.time() + delay_s
        waiter.timer = loop.call_at(waiter.deadline, self._timer_fired, waiter)

    def _timer_fired(self, waiter: Waiter) -> None:
        ctx = waiter.ctx
        if ctx.blocked is not waiter:
            return
        loop = asyncio.get_running_loop()
        remaining = waiter.deadline - loop.time()
        if remaining > 0:
            # A timer may fire a hair early (millisecond clocks); never answer early.
            waiter.timer = loop.call_at(waiter.deadline, self._timer_fired, waiter)
            return
        self.time_out(ctx)

    def _release(self, waiter: Waiter) -> None:
        """Forget a waiter: its keys, its timer, its client's blocked state."""
        blocked = waiter.db.blocked
        for key in waiter.keys:
            queue = blocked.get(key)
            if queue is not None:
                queue.pop(waiter, None)
                if not queue:
                    del blocked[key]
        if waiter.timer is not None:
            waiter.timer.cancel()
            waiter.timer = None
        waiter.ctx.blocked = None
        self.waiters.pop(waiter.ctx.id, None)

    def _finish(self, waiter: Waiter, reply: Any, elapsed_us: int = 0) -> None:
        """Unblock with `reply`: statistics, then hand the reply to the connection."""
        self._release(waiter)
        spec = waiter.spec
        if type(reply) is RespError:
            self.app.stats_error(reply.text)
            if spec is not None:
                spec.failed_calls += 1
        if spec is not None:
            spec.usec += elapsed_us
        deliver = waiter.ctx.unblocked
        if deliver is not None:
            deliver(reply)

    # --- ending a wait without data ---

    def time_out(self, ctx: CommandContext) -> bool:
        """End `ctx`'s wait with its timeout reply (the timer, or a test, calls this)."""
        waiter = ctx.blocked
        if waiter is None:
            return False
        self._finish(waiter, waiter.block.reply_on_timeout())
        return True

    def unblock(self, client_id: int, error: bool) -> bool:
        """CLIENT UNBLOCK: end a client's wait with the timeout reply or -UNBLOCKED."""
        waiter = self.waiters.get(client_id)
        if waiter is None:
            return False
        spec = waiter.spec
        if spec is not None and not error:
            # Redis counts an unblocked command as failed either way (updateStatsOnUnblock).
            spec.failed_calls += 1
        reply = RespError(ERR_UNBLOCKED_BY_CLIENT) if error else waiter.block.reply_on_timeout()
        self._finish(waiter, reply)
        return True

    def wake(self, ctx: CommandContext, reply: Any) -> bool:
        """End `ctx`'s wait with `reply` (the owner of a wait not on keys: WAIT)."""
        waiter = ctx.blocked
        if waiter is None:
            return False
        self._finish(waiter, reply)
        return True

    def disconnect_all(self, text: str) -> None:
        """Answer every blocked client with error `text` and close it after the reply
        (Redis's disconnectAllBlockedClients, when a primary becomes a replica)."""
        for waiter in list(self.waiters.values()):
            waiter.ctx.close_after_reply = True
            self._finish(waiter, RespError(text))

    def client_closed(self, ctx: CommandContext) -> None:
        waiter = ctx.blocked
        if waiter is not None:
            self._release(waiter)

    # --- serving ---

    def signal_ready(self, db: Database, key: bytes) -> None:
        """Queue `key` for serving (Keyspace.on_ready: a key with waiters was written)."""
        entry = (db, key)
        if entry not in self._ready_set:
            self._ready_set.add(entry)
            self.ready.append(entry)

    def handle_ready_keys(self) -> None:
        """Serve the clients blocked on every ready key, oldest first, until none is left.

        Serving can make more keys ready (BLMOVE pushes); those are served in a next round.
        """
        ready = self.ready
        while ready:
            batch = ready[:]
            ready.clear()
            for entry in batch:
                self._ready_set.discard(entry)
                self._serve_key(*entry)

    def _serve_key(self, db: Database, key: bytes) -> None:
        queue = db.blocked.get(key)
        if not queue or db.get(key) is None:
            return
        for waiter in tuple(queue):
            if waiter.ctx.blocked is not waiter:
                continue
            if self._serve(waiter, key) and db.get(key) is None:
                break

    def _serve(self, waiter: Waiter, key: bytes) -> bool:
        """Try to serve one waiter from `key`; True if its wait ended."""
        ctx = waiter.ctx
        app = self.app
        spec = waiter.spec
        if spec is not None:
            ctx.begin_command(spec)
        else:
            ctx.dirty = 0
            ctx.rewritten = None
        started = _now_us()
        try:
            reply = waiter.block.retry(ctx, key)
        except CommandError as e:
            reply = RespError(e.text)
        except StorageError as e:
            reply = RespError(storage_error_text(e))
        except Exception:
            logger.exception("internal error serving a blocked client")
            reply = RespError(ERR_INTERNAL)
        if reply is NOT_READY:
            return False
        if ctx.dirty:
            app.dirty += ctx.dirty
        if ctx.rewritten and app.feed:
            index = ctx.db.index
            for effect in ctx.rewritten:
                app.propagate(index, effect)
        self._finish(waiter, reply, _now_us() - started)
        return True


def _now_us() -> int:
    return time.perf_counter_ns() // 1000


# --- timeouts ---

# strtold's forms that can parse to a finite number or an infinity. A trailing or leading
# space, "1e", "0x" or "nan" make Redis's string2ld fail.
_DECIMAL: Final = re.compile(rb"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")
_HEX: Final = re.compile(rb"([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?")
_INFINITY: Final = re.compile(rb"[+-]?(?:inf|infinity)", re.IGNORECASE)
_LLONG_MAX: Final = 2**63 - 1
# x86 long double: 64-bit significand, exponent range of binary128's.
_LD_BITS: Final = 64
_LD_MAX_EXP: Final = 16384  # values >= 2**16384 overflow to HUGE_VALL
_LD_MIN_EXP: Final = -16445  # the smallest subnormal is 2**-16445


def parse_timeout(raw: bytes) -> int:
    """A blocking command's timeout in milliseconds (0: wait forever), as Redis 7.0 reads it.

    Redis parses seconds with strtold (long double), rounds `seconds * 1000` up, and rejects
    what is negative after that, so "-0.0005" means 0 (forever) and "1e-400" means 1 ms.
    Infinities and values past the 64-bit millisecond range come out negative in C.

    Raises:
        CommandError: "timeout is not a float or out of range" or "timeout is negative".
    """
    if raw.isdigit() and len(raw) <= 15:
        return int(raw) * 1000
    value = _parse_long_double(raw)
    if value is None:
        raise CommandError(ERR_TIMEOUT_NOT_FLOAT)
    ms = math.ceil(_round_long_double(value * 1000)) if value else 0
    if ms < 0 or ms > _LLONG_MAX:
        raise CommandError(ERR_TIMEOUT_NEGATIVE)
    return ms


def _parse_long_double(raw: bytes) -> Fraction | None:
    """strtold over the whole string, exactly, rounded to a long double.

    Returns None where Redis's string2ld fails: bad syntax, overflow, underflow to zero,
    NaN. An infinity comes back as -2**70, which, like C's out-of-range cast, ends up a
    negative number of milliseconds.
    """
    if not raw or len(raw) >= 5 * 1024:
        return None
    if _INFINITY.fullmatch(raw):
        return Fraction(-(2**70))
    base, bits_per_digit = 10, 3.33
    m = _DECIMAL.fullmatch(raw)
    if m is None or not (m.group(2) or m.group(3)):
        base, bits_per_digit = 16, 4.0
        m = _HEX.fullmatch(raw)
        if m is None or not (m.group(2) or m.group(3)):
            return None
    sign, whole, frac, exp = m.group(1), m.group(2), m.group(3) or b"", m.group(4)
    digits = whole + frac
    zeros = len(digits) - len(digits.lstrip(b"0"))
    if zeros == len(digits):
        return Fraction(0)
    exponent = int(exp) if exp else 0
    # Rough binary magnitude first, so "1e999999999" is refused without big arithmetic.
    magnitude = (len(whole) - zeros) * bits_per_digit
    magnitude += exponent * (bits_per_digit if base == 10 else 1.0)
    if not _LD_MIN_EXP - 16 < magnitude < _LD_MAX_EXP + 16:
        return None
    if base == 10:
        scale = Fraction(10) ** (exponent - len(frac))
    else:
        scale = Fraction(2) ** (exponent - 4 * len(frac))
    value = _round_long_double(int(digits, base) * scale)
    if value == 0 or value >= Fraction(2) ** _LD_MAX_EXP:
        return None
    return -value if sign == b"-" else value


def _round_long_double(x: Fraction) -> Fraction:
    """Round to the nearest x87 long double (64-bit significand, ties to even)."""
    if x == 0:
        return x
    a = abs(x)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    # Subnormals keep fewer bits; below the smallest one the value rounds to zero.
    shift = max(e - (_LD_BITS - 1), _LD_MIN_EXP)
    scaled = a / Fraction(2) ** shift
    q, r = divmod(scaled.numerator, scaled.denominator)
    twice = 2 * r
    if twice > scaled.denominator or (twice == scaled.denominator and q & 1):
        q += 1
    rounded = Fraction(q) * Fraction(2) ** shift
    return rounded if x > 0 else -rounded
