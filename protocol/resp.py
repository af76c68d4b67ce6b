"""RESP, sans-IO: a request parser (bytes in, argv lists out) and reply encoders.

No sockets and no server state here. The connection layer feeds bytes and asks for commands;
handlers return plain Python values and `encode_reply` turns them into RESP2 or RESP3 bytes.

Strategy (parser):

Redis reads two request forms. A request that starts with '*' is a multibulk array of bulk
strings; anything else is an inline command, one line split like a shell would
(`sdssplitargs`). The rules, limits and error texts below follow `processMultibulkBuffer` and
`processInlineBuffer` in Redis 7.0's networking.c.

Two parsers share that contract:

* the fast path hands a chunk that starts at a command boundary with '*' to hiredis, which
  parses well-formed multibulk frames in C;
* the exact path is Python and is the specification: it produces Redis's error texts, its
  early rejection of oversized lengths, inline commands, and frames hiredis would read
  differently (a '+', ':' or '*' element inside a request).

The fast path only ever delivers what the exact path would. A chunk goes to hiredis only when
it starts at a boundary, begins with '*', contains no CRLF followed by '+', '=' or '('
(the reply types hiredis would hand back as bytes), and no '*' followed by seven digits:
hiredis allocates an array of the declared size as soon as it reads a header, and freeing
one declared at two billion elements takes seconds, so a count of a million or more is
left to the exact path, which grows its argv as elements arrive, as Redis does. hiredis
results that are not a list of bytes, hiredis errors, and a chunk that ends inside a
command all hand over to the exact path, which re-reads the chunk from the first command
hiredis has not delivered. When the exact path has consumed everything, the next chunk may
use hiredis again.

"Need more data" is an ordinary return value (None), never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Final

import hiredis

from protocol.errors import ProtocolError
from protocol.numbers import format_double

# --- limits (Redis's defaults) ---

INLINE_MAX_BYTES: Final = 64 * 1024  # PROTO_INLINE_MAX_SIZE
INT_MAX: Final = 2**31 - 1
DEFAULT_PROTO_MAX_BULK_LEN: Final = 512 * 1024 * 1024
DEFAULT_QUERY_BUFFER_LIMIT: Final = 1024 * 1024 * 1024
UNAUTHENTICATED_MAX_ARGS: Final = 10
UNAUTHENTICATED_MAX_BULK: Final = 16384

# A multibulk count of a million or more somewhere in a chunk (see the parser strategy).
_BIG_COUNT: Final = re.compile(rb"\*[0-9]{7}")
# A line starting with a reply type hiredis returns as bytes: '+', '=' or '('.
_REPLY_TYPE_LINE: Final = re.compile(rb"\r\n[+=(]")
_SPACE: Final = frozenset(b" \t\n\r\v\f")  # C isspace()
_TOKEN_END: Final = frozenset(b" \n\r\t")
_HEX: Final = frozenset(b"0123456789abcdefABCDEF")
_ESCAPES: Final = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}


def string2ll(raw: bytes | bytearray) -> int | None:
    """Redis's string2ll: optional '-', no leading zeros, no '+', no spaces, fits int64."""
    n = len(raw)
    if n == 0 or n >= 21:
        return None
    if n == 1:
        c = raw[0]
        return c - 48 if 48 <= c <= 57 else None
    start = 1 if raw[0] == 45 else 0
    if start == n or not (49 <= raw[start] <= 57):
        return None
    if not raw[start:].isdigit():
        return None
    value = int(raw)
    if value < -(2**63) or value > 2**63 - 1:
        return None
    return value


def split_inline(line: bytes | bytearray) -> list[bytes] | None:
    """Split an inline request as Redis's sdssplitargs does; None for unbalanced quotes."""
    nul = line.find(b"\0")
    if nul >= 0:  # sdssplitargs reads a C string
        line = line[:nul]
    out: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in _SPACE:
            i += 1
        if i >= n:
            return out
        current = bytearray()
        in_dq = in_sq = False
        while True:
            c = line[i] if i < n else 0
            if in_dq:
                if (
                    c == 92
                    and i + 3 < n
                    and line[i + 1] == 120
                    and line[i + 2] in _HEX
                    and line[i + 3] in _HEX
                ):
                    current.append(int(bytes(line[i + 2 : i + 4]), 16))
                    i += 3
                elif c == 92 and i + 1 < n:
                    i += 1
                    e = line[i]
                    current.append(_ESCAPES.get(e, e))
                elif c == 34:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    i += 1
                    break
                elif i >= n:
                    return None
                else:
                    current.append(c)
            elif in_sq:
                if c == 92 and i + 1 < n and line[i + 1] == 39:
                    i += 1
                    current.append(39)
                elif c == 39:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    i += 1
                    break
                elif i >= n:
                    return None
                else:
                    current.append(c)
            elif i >= n or c in _TOKEN_END:
                if i < n:
                    i += 1
                break
            elif c == 34:
                in_dq = True
            elif c == 39:
                in_sq = True
            else:
                current.append(c)
            i += 1
        out.append(bytes(current))


def sds_repr(value: str | bytes) -> str:
    """sdscatrepr: `value` double-quoted with C escapes, as Redis shows an argument in
    MONITOR and writes a string into a config file (CONFIG REWRITE, Sentinel's state, the
    AOF manifest); `split_inline` reads it back. A str is taken as its UTF-8 bytes."""
    data = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
    out = ['"']
    for byte in data:
        ch = chr(byte)
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\a":
            out.append("\\a")
        elif ch == "\b":
            out.append("\\b")
        elif 32 <= byte < 127:
            out.append(ch)
        else:
            out.append(f"\\x{byte:02x}")
    out.append('"')
    return "".join(out)


def _no_big_count(data: bytes) -> bool:
    """No '*' in `data` is followed by seven digits (a multibulk count of a million or more).

    A chunk holding one request, however long its values, usually has no '*' but the one it
    starts with. For a chunk of 4 KiB or more with no other '*', one memchr past the first
    byte and a look at the digits after it replace the regular-expression scan, which reads
    every byte in Python's engine (10 KB, an MSET of ten 1 KiB values: 4.9 µs against 0.6).
    Any other chunk is scanned: short ones cost the scan less than the two calls.
    """
    if len(data) >= _ONE_REQUEST_MAX_BYTES and data[0] == 42 and data.find(42, 1) < 0:
        return not data[1:8].isdigit()
    return _BIG_COUNT.search(data) is None


def _no_reply_type_lines(data: bytes) -> bool:
    """No line of `data` starts with '+', '=' or '(' (frames hiredis would return as bytes).

    Many chunks hold none of those three bytes at all, which one memchr each tells (an int
    operand makes `in` a byte search). Otherwise one regular-expression scan for the CRLF
    and the byte after it is several times faster than a `find` for each two-byte sequence;
    values such as redis-benchmark's random payloads hold '=' often.
    """
    if 43 not in data and 61 not in data and 40 not in data:  # '+', '=', '('
        return True
    return _REPLY_TYPE_LINE.search(data) is None


_ONE_REQUEST_MAX_BYTES: Final = 4096  # requests with values up to a few KiB
_BULK_LINES: Final = [b"$%d" % n for n in range(_ONE_REQUEST_MAX_BYTES)]
# Each argument takes at least six bytes ("$0", CRLF, CRLF): a short request has fewer.
_ARRAY_LINES: Final = [b"*%d" % n for n in range(_ONE_REQUEST_MAX_BYTES // 6 + 1)]


def _find_line_end(buf: bytearray, pos: int, char: bytes) -> int:
    """strchr(buf + pos, char) on a NUL-terminated buffer: -1 if a NUL comes first."""
    end = buf.find(char, pos)
    if end < 0:
        return -1
    if buf.find(b"\0", pos, end) >= 0:
        return -1
    return end


class RESPParser:
    """Turns a client's request bytes into argv lists.

    Use `feed(data)`, then call `read_commands()` until it returns an empty list (need more
    data), or `maybe_next_command()` until it returns None. Errors raise `ProtocolError`;
    Redis answers it and closes the connection. Commands taken but not run can be handed
    back with `unread`; they come out again first.

    Attributes:
        require_auth: the client has not authenticated while a password is set; Redis then
            caps request sizes (10 arguments, 16 KiB per argument).
        from_primary: the replication link; bulk lengths are not capped, and only the exact
            path is used, so `buffered_bytes` is exact at every command boundary (the
            replication offset is counted from it).
        max_bulk_bytes: `proto-max-bulk-len`.
        max_buffer_bytes: `client-query-buffer-limit`; past it the client is dropped
            without a reply.
    """

    __slots__ = (
        "_argv",
        "_buf",
        "_bulk_len",
        "_chunk",
        "_chunk_done",
        "_fast",
        "_pending",
        "_pos",
        "_reader",
        "_remaining",
        "from_primary",
        "max_buffer_bytes",
        "max_bulk_bytes",
        "require_auth",
    )

    def __init__(
        self,
        *,
        max_bulk_bytes: int = DEFAULT_PROTO_MAX_BULK_LEN,
        max_buffer_bytes: int = DEFAULT_QUERY_BUFFER_LIMIT,
    ) -> None:
        self.max_bulk_bytes = max_bulk_bytes
        self.max_buffer_bytes = max_buffer_bytes
        self.require_auth = False
        self.from_primary = False
        self._reader = hiredis.Reader()
        self._fast = False  # the hiredis reader holds the unread input
        self._chunk = b""  # in fast mode: the chunk given to hiredis
        self._chunk_done = 0  # commands hiredis delivered from _chunk
        self._buf = bytearray()  # exact mode: unread input
        self._pos = 0
        self._argv: list[bytes] | None = None  # a multibulk request being read
        self._remaining = 0
        self._bulk_len = -1
        self._pending: list[list[bytes]] = []  # handed back by `unread`

    def buffered_bytes(self) -> int:
        """How many received bytes are not yet consumed (approximately, in fast mode)."""
        if self._fast:
            return len(self._chunk)
        return len(self._buf) - self._pos

    def feed(self, data: bytes) -> None:
        """Add received bytes.

        Raises:
            ProtocolError: the unread input passed `max_buffer_bytes` (no reply is due).
        """
        if not data:
            return
        if (
            not self._fast
            and not self.from_primary
            and self._pos >= len(self._buf)
            and self._argv is None
            and data[0] == 42
            and not self.require_auth
            and _no_reply_type_lines(data)
            and _no_big_count(data)
        ):
            self._enter_fast_path(data)
            return
        if self._fast:
            # Only reachable if the caller feeds before draining; keep it exact.
            self._leave_fast_path()
        self._buf += data
        if len(self._buf) - self._pos > self.max_buffer_bytes:
            raise ProtocolError("client-query-buffer-limit reached", reply=False)

    def lone_request(self, data: bytes) -> list[bytes] | None:
        """`data` as one request, when the parser holds nothing at all and `data` is exactly
        one short request in canonical framing; else None. Nothing is consumed either way:
        the caller runs the request itself, without a round through the batch readers
        (hiredis, the pre-scans, the idle probe), or feeds `data`.

        Canonical: "*N", then N times "$len" and an argument of that length, each line ended
        by CRLF, nothing after. Split at every CRLF, such a request gives exactly 2N+2
        pieces; an argument holding a CRLF gives more, so when the count and every length
        agree the pieces are the request's own lines and the arguments are read exactly as
        Redis reads them. Anything else (several requests, other sizes, non-canonical
        numbers, an argument with a CRLF, inline commands) is left to the general readers,
        which answer it as Redis does. One call, no helper: it runs for every request at
        pipeline 1.
        """
        if (
            len(data) >= _ONE_REQUEST_MAX_BYTES
            or data.find(42, 1) >= 0  # another '*': not one request alone
            or self._fast
            or self.from_primary
            or self.require_auth
            or self._pending
            or self._argv is not None
            or self._pos < len(self._buf)
        ):
            return None
        parts = data.split(b"\r\n")
        n = len(parts)
        if parts[-1]:
            return None
        heads = _BULK_LINES  # every argument is shorter than the data: its line is in the table
        if n == 8:  # SET k v, LPUSH k v, ...
            a, b, c = parts[2], parts[4], parts[6]
            if (
                parts[0] == b"*3"
                and parts[1] == heads[len(a)]
                and parts[3] == heads[len(b)]
                and parts[5] == heads[len(c)]
            ):
                return [a, b, c]
        elif n == 6:  # GET k, INCR k, ...
            a, b = parts[2], parts[4]
            if parts[0] == b"*2" and parts[1] == heads[len(a)] and parts[3] == heads[len(b)]:
                return [a, b]
        elif n == 10:  # HSET k f v, ZADD k s m, ...
            a, b, c, d = parts[2], parts[4], parts[6], parts[8]
            if (
                parts[0] == b"*4"
                and parts[1] == heads[len(a)]
                and parts[3] == heads[len(b)]
                and parts[5] == heads[len(c)]
                and parts[7] == heads[len(d)]
            ):
                return [a, b, c, d]
        elif n > 3 and not n & 1:  # any other count (PING, MSET ...)
            args = parts[2:-1:2]
            if parts[0] == _ARRAY_LINES[len(args)] and parts[1:-1:2] == [
                heads[len(arg)] for arg in args
            ]:
                return args
        return None

    def _enter_fast_path(self, data: bytes) -> None:
        """Hand a chunk that starts on a request boundary to hiredis."""
        if self._buf:
            self._buf.clear()
            self._pos = 0
        self._fast = True
        self._chunk = data
        self._chunk_done = 0
        self._reader.feed(data)

    def unread(self, commands: list[list[bytes]]) -> None:
        """Hand back commands taken but not run; the next reads return them first."""
        if commands:
            self._pending[:0] = commands

    def read_commands(self) -> list[list[bytes]]:
        """Every complete command available now, in order; an empty list when more input
        is needed.

        While `require_auth` is set it returns at most one command, because the limits that
        apply to the next one depend on whether this one authenticates. When the input breaks
        the framing rules after some complete commands, those are returned and the next call
        raises, so the commands before the fault run first, as they do in Redis.

        Raises:
            ProtocolError: the input breaks Redis's framing rules.
        """
        if self._pending:
            pending, self._pending = self._pending, []
            return pending
        out: list[list[bytes]] = []
        if self._fast:
            # The loop of maybe_next_command's fast branch, run over the whole chunk.
            gets = self._reader.gets
            append = out.append
            empty = 0
            cmd: Any = None
            while True:
                try:
                    cmd = gets()
                except hiredis.ProtocolError:
                    cmd = None
                    break
                if type(cmd) is not list:
                    break
                for arg in cmd:
                    if type(arg) is not bytes:
                        break
                else:
                    if cmd:
                        append(cmd)
                    else:
                        empty += 1
                    continue
                break
            if cmd is False and self._reader_idle():
                self._fast = False
                self._chunk = b""
                return out
            self._chunk_done += len(out) + empty
            self._leave_fast_path()
        elif not self._buf:
            return out  # nothing buffered: no command can be complete
        try:
            while True:
                argv = self._exact_next()
                if argv is None:
                    return out
                out.append(argv)
                if self.require_auth:
                    return out
        except ProtocolError:
            if out:
                return out  # the exact parser kept its place: the next call raises again
            raise

    def maybe_next_command(self) -> list[bytes] | None:
        """The next complete command, or None when more input is needed.

        Raises:
            ProtocolError: the input breaks Redis's framing rules.
        """
        if self._pending:
            return self._pending.pop(0)
        if self._fast:
            try:
                cmd = self._reader.gets()
            except hiredis.ProtocolError:
                cmd = None
            else:
                if cmd is False:
                    if self._reader_idle():
                        self._fast = False
                        self._chunk = b""
                        return None
                elif type(cmd) is list:
                    for arg in cmd:
                        if type(arg) is not bytes:
                            break
                    else:
                        self._chunk_done += 1
                        if cmd:
                            return cmd
                        return self.maybe_next_command()
            self._leave_fast_path()
        return self._exact_next()

    def _reader_idle(self) -> bool:
        """After hiredis answered "incomplete": whether it stopped between two requests.

        hiredis cannot tell "idle" from "inside a request" by itself: it consumes an array's
        header and whole elements as they arrive, and keeps only a cut-short line or bulk
        unread (`has_data`). So with nothing unread, an empty request "*0" is fed as a probe:
        it comes back as an empty list only from an idle reader; inside a request it becomes
        an element instead. A reader that was not idle is replaced when the chunk goes to
        the exact parser, so the probe leaves no trace. Unlike counting the chunk's CRLFs,
        this costs the same whatever the size of the values.
        """
        reader = self._reader
        if reader.has_data():
            return False
        reader.feed(b"*0\r\n")
        try:
            probe = reader.gets()
        except hiredis.ProtocolError:
            return False
        return type(probe) is list and not probe

    def _leave_fast_path(self) -> None:
        """Hand the undelivered rest of the chunk to the exact parser."""
        offset = skip_commands(self._chunk, self._chunk_done)
        self._buf = bytearray(self._chunk[offset:])
        self._pos = 0
        self._chunk = b""
        self._fast = False
        self._reader = hiredis.Reader()

    # --- exact path ---

    def _exact_next(self) -> list[bytes] | None:
        buf = self._buf
        while True:
            if self._argv is None:
                pos = self._pos
                if pos >= len(buf):
                    buf.clear()
                    self._pos = 0
                    return None
                if buf[pos] != 42:  # not '*': inline
                    argv = self._inline(buf, pos)
                    if argv is None:
                        return None
                    if argv:
                        return argv
                    continue
                end = _find_line_end(buf, pos, b"\r")
                if end < 0:
                    if len(buf) - pos > INLINE_MAX_BYTES:
                        raise ProtocolError("Protocol error: too big mbulk count string")
                    self._compact()
                    return None
                if end > len(buf) - 2:
                    self._compact()
                    return None
                count = string2ll(buf[pos + 1 : end])
                if count is None or count > INT_MAX:
                    raise ProtocolError("Protocol error: invalid multibulk length")
                if count > UNAUTHENTICATED_MAX_ARGS and self.require_auth:
                    raise ProtocolError("Protocol error: unauthenticated multibulk length")
                self._pos = end + 2
                if count <= 0:
                    continue
                self._argv = []
                self._remaining = count
                self._bulk_len = -1
            argv = self._argv
            while self._remaining:
                pos = self._pos
                if self._bulk_len < 0:
                    end = _find_line_end(buf, pos, b"\r")
                    if end < 0:
                        if len(buf) - pos > INLINE_MAX_BYTES:
                            raise ProtocolError("Protocol error: too big bulk count string")
                        self._compact()
                        return None
                    if end > len(buf) - 2:
                        self._compact()
                        return None
                    if buf[pos] != 36:
                        got = bytes(buf[pos : pos + 1]).decode("utf-8", "surrogateescape")
                        raise ProtocolError(f"Protocol error: expected '$', got '{got}'")
                    size = string2ll(buf[pos + 1 : end])
                    if (
                        size is None
                        or size < 0
                        or (not self.from_primary and size > self.max_bulk_bytes)
                    ):
                        raise ProtocolError("Protocol error: invalid bulk length")
                    if size > UNAUTHENTICATED_MAX_BULK and self.require_auth:
                        raise ProtocolError("Protocol error: unauthenticated bulk length")
                    pos = self._pos = end + 2
                    self._bulk_len = size
                size = self._bulk_len
                if len(buf) - pos < size + 2:
                    self._compact()
                    return None
                argv.append(bytes(buf[pos : pos + size]))
                self._pos = pos + size + 2
                self._bulk_len = -1
                self._remaining -= 1
            self._argv = None
            return argv

    def _inline(self, buf: bytearray, pos: int) -> list[bytes] | None:
        end = _find_line_end(buf, pos, b"\n")
        if end < 0:
            if len(buf) - pos > INLINE_MAX_BYTES:
                raise ProtocolError("Protocol error: too big inline request")
            self._compact()
            return None
        line_end = end - 1 if end > pos and buf[end - 1] == 13 else end
        line = buf[pos:line_end]
        argv = split_inline(line)
        if argv is None:
            raise ProtocolError("Protocol error: unbalanced quotes in request")
        if line and self.from_primary:
            raise ProtocolError("Master using the inline protocol. Desync?", reply=False)
        self._pos = end + 1
        return argv

    def _compact(self) -> None:
        if self._pos > 4096 or self._pos * 2 > len(self._buf):
            del self._buf[: self._pos]
            self._pos = 0


def skip_commands(data: bytes, count: int) -> int:
    """Offset just past the first `count` multibulk requests in `data`.

    Only used on frames hiredis has already accepted, so they are well formed.
    """
    pos = 0
    for _ in range(count):
        end = data.index(b"\r", pos)
        args = int(data[pos + 1 : end])
        pos = end + 2
        for _ in range(max(args, 0)):
            end = data.index(b"\r", pos)
            pos = end + 2 + int(data[pos + 1 : end]) + 2
    return pos


# --- reply values ---


class SimpleString(bytes):
    """A RESP simple string (+OK). Must not contain CR or LF."""

    __slots__ = ()


class RespError:
    """An error reply; `text` starts with its code ("ERR ...", "WRONGTYPE ...")."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RespError) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"RespError({self.text!r})"


class Verbatim:
    """A RESP3 verbatim string (=); RESP2 clients get a bulk string."""

    __slots__ = ("fmt", "text")

    def __init__(self, text: bytes, fmt: bytes = b"txt") -> None:
        self.text = text
        self.fmt = fmt

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Verbatim) and (other.text, other.fmt) == (self.text, self.fmt)

    def __hash__(self) -> int:
        return hash((self.text, self.fmt))


class Push(list[Any]):
    """A RESP3 push frame (>); RESP2 clients get an array."""

    __slots__ = ()


class RespSet(list[Any]):
    """A RESP3 set (~) in a chosen order; RESP2 clients get an array."""

    __slots__ = ()


class RawReply(bytes):
    """Bytes already in RESP form, written as they are.

    For frames encoded once and sent to many clients (a published message), and for replies
    no value can describe (EXEC's array when a queued command pushed frames of its own).
    """

    __slots__ = ()


class _NullArray:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NULL_ARRAY"


NULL_ARRAY: Final = _NullArray()  # RESP2 *-1, RESP3 _
OK: Final = SimpleString(b"OK")
QUEUED: Final = SimpleString(b"QUEUED")
PONG: Final = SimpleString(b"PONG")

# --- encoding ---

_INT_CACHE: Final = [b":%d\r\n" % i for i in range(-1, 1024)]
_BULK_HEADERS: Final = [b"$%d\r\n" % i for i in range(1024)]
_OK_BYTES: Final = b"+OK\r\n"
_CONSTANTS: Final = {id(OK): b"+OK\r\n", id(QUEUED): b"+QUEUED\r\n", id(PONG): b"+PONG\r\n"}


def error_bytes(text: str) -> bytes:
    """The one place error text becomes wire bytes; CR and LF become spaces as in Redis."""
    if "\r" in text or "\n" in text:
        text = text.replace("\r", " ").replace("\n", " ")
    return b"-" + text.encode("utf-8", "surrogateescape") + b"\r\n"


def encode_reply(value: Any, resp3: bool) -> bytes:
    """Encode a handler's return value for a RESP2 or RESP3 client.

    Args:
        value: bytes (bulk), None (null), int, bool, float (double), SimpleString,
            RespError, list/tuple (array), dict (map), set/frozenset/RespSet (set), Push,
            Verbatim, NULL_ARRAY or RawReply (sent as is).
        resp3: the client said HELLO 3.

    Returns:
        The encoded reply.
    """
    t = type(value)
    if t is bytes:
        bulk: bytes = value
        size = len(bulk)
        if size < 1024:
            # Concatenation with a preencoded header is cheaper than %-formatting.
            return _BULK_HEADERS[size] + bulk + b"\r\n"
        return b"$%d\r\n%b\r\n" % (size, bulk)
    if value is OK:
        return _OK_BYTES
    if t is int:
        number: int = value
        if -1 <= number < 1023:
            return _INT_CACHE[number + 1]
        return b":%d\r\n" % number
    if value is None:
        return b"_\r\n" if resp3 else b"$-1\r\n"
    if t is SimpleString:
        cached = _CONSTANTS.get(id(value))
        return cached if cached is not None else b"+" + value + b"\r\n"
    if t is RawReply:
        raw: bytes = value
        return raw
    out: list[bytes] = []
    _encode_into(out, value, resp3)
    return b"".join(out)


def _encode_into(out: list[bytes], value: Any, resp3: bool) -> None:
    t = type(value)
    if t is bytes or t is bytearray:
        out.append(b"$%d\r\n%b\r\n" % (len(value), value))
    elif t is int:
        out.append(b":%d\r\n" % value)
    elif value is None:
        out.append(b"_\r\n" if resp3 else b"$-1\r\n")
    elif t is list or t is tuple or t is RespSet or t is Push:
        if resp3 and t is RespSet:
            out.append(b"~%d\r\n" % len(value))
        elif resp3 and t is Push:
            out.append(b">%d\r\n" % len(value))
        else:
            out.append(b"*%d\r\n" % len(value))
        for item in value:
            _encode_into(out, item, resp3)
    elif t is SimpleString:
        out.append(b"+" + value + b"\r\n")
    elif t is RespError:
        out.append(error_bytes(value.text))
    elif t is bool:
        if resp3:
            out.append(b"#t\r\n" if value else b"#f\r\n")
        else:
            out.append(b":1\r\n" if value else b":0\r\n")
    elif t is float:
        text = format_double(value)
        if resp3:
            out.append(b"," + text + b"\r\n")
        else:
            out.append(b"$%d\r\n%b\r\n" % (len(text), text))
    elif t is dict:
        out.append((b"%%%d\r\n" if resp3 else b"*%d\r\n") % (len(value) * (1 if resp3 else 2)))
        for k, v in value.items():
            _encode_into(out, k, resp3)
            _encode_into(out, v, resp3)
    elif t is set or t is frozenset:
        out.append((b"~%d\r\n" if resp3 else b"*%d\r\n") % len(value))
        for item in value:
            _encode_into(out, item, resp3)
    elif value is NULL_ARRAY:
        out.append(b"_\r\n" if resp3 else b"*-1\r\n")
    elif t is Verbatim:
        if resp3:
            body = value.fmt + b":" + value.text
            out.append(b"=%d\r\n%b\r\n" % (len(body), body))
        else:
            out.append(b"$%d\r\n%b\r\n" % (len(value.text), value.text))
    elif isinstance(value, int):  # IntEnum and friends
        _encode_into(out, int(value), resp3)
    elif isinstance(value, bytes):  # a subclass (a stored EmbstrBytes)
        out.append(b"$%d\r\n%b\r\n" % (len(value), bytes(value)))
    else:
        raise TypeError(f"cannot encode {t.__name__} as RESP")


def encode_command(argv: Sequence[bytes]) -> bytes:
    """Encode argv as a RESP multibulk request (the AOF and replication stream format)."""
    # Every write propagated to the AOF or a replica is encoded here: the commonest sizes
    # take one formatting operation, about half the cost of the general loop.
    n = len(argv)
    if n == 3:
        a, b, c = argv
        return _FORMAT_3 % (len(a), a, len(b), b, len(c), c)
    if n == 2:
        a, b = argv
        return _FORMAT_2 % (len(a), a, len(b), b)
    if n == 4:
        a, b, c, d = argv
        return _FORMAT_4 % (len(a), a, len(b), b, len(c), c, len(d), d)
    parts = [b"*%d\r\n" % n]
    parts.extend([b"$%d\r\n%b\r\n" % (len(arg), arg) for arg in argv])
    return b"".join(parts)


_FORMAT_2: Final = b"*2\r\n" + b"$%d\r\n%b\r\n" * 2
_FORMAT_3: Final = b"*3\r\n" + b"$%d\r\n%b\r\n" * 3
_FORMAT_4: Final = b"*4\r\n" + b"$%d\r\n%b\r\n" * 4


def encode_commands(commands: Iterable[Sequence[bytes]]) -> bytes:
    """Encode several requests back to back."""
    return b"".join(encode_command(argv) for argv in commands)
