"""The memcached text protocol (classic and meta commands): a sans-IO parser and reply encoders.

No I/O and no storage here. Bytes go in through `MemcacheParser.feed`; `next_request` returns
one parsed request at a time, or None while it needs more data. Whatever the sizes of the
pieces the bytes arrive in, the same requests come out.

The specification is memcached 1.6.18: `proto_text.c` (tokenizer, per-command checks, meta
flag pre-parsing), `memcached.c` (line framing, data blocks, swallowing) and `util.c` (number
parsing). Requests carry everything memcached decides before it looks at an item; whatever
depends on the item (hits, CAS checks, the order of reply flags) is left to the verbs in
server/memcache.py.

Strategy (framing), as memcached's connection state machine does it:

* A command line ends at `\\n`; one `\\r` just before it is dropped when the line has more
  than that one byte. The line is then cut at its first NUL byte (memcached tokenizes a C
  string) and split on single spaces only: tabs and other control bytes stay inside tokens.
* A line that is not a `get` or `gets` (after at most 100 leading spaces) closes the
  connection when more than 2048 bytes of it are buffered without its newline, and when a
  complete line is longer than memcached's 16 KB read buffer. As in memcached, a longer line
  whose newline arrived together with it is processed (and fails on its key length); this is
  the one place where the outcome depends on how TCP cut the stream, and only for lines no
  valid request has. get / gets lines may be as long as a large multi-get needs, up to
  `max_get_line_bytes`.
* A storage command whose line is valid is followed by `<bytes>` + 2 bytes of data. memcached
  reads exactly that many; when the last two are not `\\r\\n` the answer is `CLIENT_ERROR bad
  data chunk` and parsing resumes right after them, so the stream stays in sync with what the
  client meant only if it sent `<bytes>` bytes.
* An item too large for the cache (`SERVER_ERROR object too large for cache`) and a meta set
  rejected after its length was read have their data swallowed without being buffered.
* A line memcached rejects without touching any item becomes an `ErrorReply`; `Close` asks the
  connection to flush what it has and close.

With `require_auth` (memcached's -Y authfile mode), a connection starts with memcached's
ASCII authentication: a `set <any key> <flags> <exptime> <bytes>` line whose data block is
`<username> <password>` becomes an `Auth` request; any other line answers `CLIENT_ERROR
unauthenticated`. The connection turns `require_auth` off once the credentials are accepted.

Numbers are parsed as memcached parses them with strtoul / strtol on a 64-bit host
(`c_strtoul` and friends): leading whitespace and a sign are accepted, the value must be
followed by whitespace or the end of the token, 32-bit results are truncated, not checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

# --- limits (memcached.h, proto_text.c) ---

KEY_MAX_BYTES: Final = 250
LINE_MAX_BYTES: Final = 2048  # buffered without a newline: close (unless get/gets)
READ_BUFFER_BYTES: Final = 16384  # memcached's read buffer: no longer line can complete
# The commonest numbers of a storage line (flags 0, exptime 0, small sizes) by their digits:
# a dict lookup is a third of int()'s cost. Anything else goes through int().
_SMALL_NUMBERS: Final = {b"%d" % n: n for n in range(1025)}
MAX_GET_LINE_BYTES: Final = 16 * 1024 * 1024
MAX_TOKENS: Final = 24  # tokens per tokenize_command pass, the terminal one included
META_MAX_TOKENS: Final = 20  # MFLAG_MAX_OPT_LENGTH
OPAQUE_MAX_BYTES: Final = 32  # MFLAG_MAX_OPAQUE_LENGTH
ITEM_HEADER_BYTES: Final = 48  # sizeof(item) on a 64-bit host
CAS_BYTES: Final = 8
REALTIME_MAXDELTA: Final = 60 * 60 * 24 * 30
INT32_MAX: Final = 2**31 - 1

# --- replies memcached writes while parsing ---

ERROR: Final = b"ERROR"
ERR_BAD_FORMAT: Final = b"CLIENT_ERROR bad command line format"
ERR_INVALID_EXPTIME: Final = b"CLIENT_ERROR invalid exptime argument"
ERR_INVALID_DELTA: Final = b"CLIENT_ERROR invalid numeric delta argument"
ERR_DELETE_USAGE: Final = b"CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]"
ERR_FLAGS_TOO_LONG_MG: Final = b"CLIENT_ERROR options flags are too long"
ERR_FLAGS_TOO_LONG: Final = b"CLIENT_ERROR options flags too long"
ERR_DUPLICATE_FLAG: Final = b"CLIENT_ERROR duplicate flag"
ERR_INVALID_FLAG: Final = b"CLIENT_ERROR invalid flag"
ERR_INVALID_OR_DUPLICATE_FLAG: Final = b"CLIENT_ERROR invalid or duplicate flag"
ERR_DECODING_KEY: Final = b"CLIENT_ERROR error decoding key"
ERR_BAD_TOKEN: Final = b"CLIENT_ERROR bad token in command line format"
ERR_M_TOKEN_LENGTH: Final = b"CLIENT_ERROR incorrect length for M token"
ERR_INITIAL_VALUE: Final = b"CLIENT_ERROR invalid numeric initial value"
ERR_DELTA_VALUE: Final = b"CLIENT_ERROR invalid numeric delta value"
ERR_OPAQUE_TOO_LONG: Final = b"CLIENT_ERROR opaque token too long"
ERR_MS_MODE: Final = b"CLIENT_ERROR invalid mode for ms M token"
ERR_MA_MODE: Final = b"CLIENT_ERROR invalid mode for ma M token"
ERR_UNAUTHENTICATED: Final = b"CLIENT_ERROR unauthenticated"
ERR_AUTH_TERMINATION: Final = b"CLIENT_ERROR bad command line termination"
ERR_AUTH_FORMAT: Final = b"CLIENT_ERROR bad authentication token format"


# --- C number parsing (util.c safe_strto* on LP64) ---

_C_SPACE: Final = frozenset(b" \t\n\v\f\r")
_U64: Final = 2**64


def _c_scan(token: bytes) -> tuple[bool, int] | None:
    """strtoul's scan: (negative, magnitude), or None when no digits or bad trailing bytes."""
    n = len(token)
    i = 0
    while i < n and token[i] in _C_SPACE:
        i += 1
    negative = False
    if i < n and token[i] in (43, 45):  # '+' '-'
        negative = token[i] == 45
        i += 1
    start = i
    while i < n and 48 <= token[i] <= 57:
        i += 1
    if i == start:
        return None
    if i < n and token[i] not in _C_SPACE:
        return None
    return negative, int(token[start:i])


def c_strtoull(token: bytes) -> int | None:
    """safe_strtoull: an unsigned 64-bit value, or None where memcached rejects the token."""
    if len(token) < 10 and token.isdigit():
        return int(token)  # the common case, with nothing to truncate or refuse
    scanned = _c_scan(token)
    if scanned is None:
        return None
    negative, magnitude = scanned
    if magnitude >= _U64:
        return None  # ERANGE
    value = (-magnitude) % _U64 if negative else magnitude
    # memcached refuses a '-' only when the result looks negative as a signed number.
    if value >= 2**63 and b"-" in token:
        return None
    return value


def c_strtoul(token: bytes) -> int | None:
    """safe_strtoul into a uint32_t: parsed as 64 bits, then truncated to 32."""
    if len(token) < 10 and token.isdigit():
        return int(token)
    value = c_strtoull(token)
    return None if value is None else value & 0xFFFFFFFF


def c_strtol(token: bytes) -> int | None:
    """safe_strtol into an int32_t: parsed as a 64-bit long, then truncated to 32 bits."""
    if len(token) < 10 and token.isdigit():
        return int(token)
    scanned = _c_scan(token)
    if scanned is None:
        return None
    negative, magnitude = scanned
    if magnitude > (2**63 if negative else 2**63 - 1):
        return None  # ERANGE
    value = (-magnitude if negative else magnitude) & 0xFFFFFFFF
    return value - 2**32 if value >= 2**31 else value


# --- base64 (memcached's base64.c: lenient decoder, standard encoder) ---

_B64_ALPHABET: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_INVALID: Final = 0x80
_B64_DECODE: Final = bytes(
    _B64_ALPHABET.index(c) if c in _B64_ALPHABET else (0 if c == 61 else _B64_INVALID)
    for c in range(256)
)


def base64_decode(src: bytes) -> bytes | None:
    """Decode as memcached does: bytes outside the alphabet are skipped; None on failure."""
    table = _B64_DECODE
    digits = [(table[c], c == 61) for c in src if table[c] != _B64_INVALID]
    if not digits or len(digits) % 4:
        return None
    out = bytearray()
    pad = 0
    for i in range(0, len(digits), 4):
        block = digits[i : i + 4]
        pad += sum(1 for _, is_pad in block if is_pad)
        a, b, c, d = (v for v, _ in block)
        out += bytes(((a << 2 | b >> 4) & 0xFF, (b << 4 | c >> 2) & 0xFF, (c << 6 | d) & 0xFF))
        if pad:
            if pad > 2:
                return None  # invalid padding
            del out[-pad:]
            break
    return bytes(out) if out else None


def base64_encode(src: bytes) -> bytes:
    """Standard base64 with '=' padding, as memcached writes binary keys back."""
    import base64

    return base64.b64encode(src)


# --- requests ---


@dataclass(slots=True)
class Retrieval:
    """get / gets / gat / gats (and the ancient bget): keys are checked one by one by the verb."""

    command: bytes
    keys: list[bytes]
    exptime: int = 0  # gat / gats: the exptime as memcached parsed it (int32)


@dataclass(slots=True)
class Storage:
    """set / add / replace / append / prepend / cas with its data block.

    `data` is None when the item was too large for the cache (its data was swallowed);
    `chunk_ok` is False when the block did not end with CRLF (`CLIENT_ERROR bad data chunk`).
    """

    command: bytes
    key: bytes
    flags: int
    exptime: int
    data: bytes | None
    cas: int = 0
    noreply: bool = False
    chunk_ok: bool = True


# What `lone_request` and `plain_run` read, in the cheapest form a verb can take (a
# dataclass instance costs about 200 ns to make, a tuple 35): a get line is its list of keys,
# a plain set the tuple (key, flags, exptime, data, chunk_ok, noreply) of the `Storage` it
# stands for.
PlainSet = tuple[bytes, int, int, bytes, bool, bool]
PlainRequest = list[bytes] | PlainSet


@dataclass(slots=True)
class MetaFlags:
    """What _meta_flag_preparse collected from a meta command's flag tokens."""

    no_update: bool = False  # u
    vivify: bool = False  # N
    value: bool = False  # v
    set_stale: bool = False  # I
    no_reply: bool = False  # q
    has_cas: bool = False  # C
    new_ttl: bool = False  # T
    key_binary: bool = False  # b
    mode: int = 0  # M<char>
    exptime: int = 0  # T token, int32 as parsed
    autoviv_exptime: int = 0  # N token
    recache_time: int = 0  # R token
    has_recache: bool = False
    client_flags: int = 0  # F token
    req_cas: int = 0  # C token
    delta: int = 1  # D token (ma)
    initial: int = 0  # J token (ma)


@dataclass(slots=True)
class Meta:
    """mg / ms / md / ma / me / mn.

    `tokens` are the flag tokens in the order sent (the verb writes return flags in that
    order); `key` is already base64-decoded when the `b` flag was given.
    """

    command: bytes
    key: bytes
    tokens: list[bytes]
    flags: MetaFlags = field(default_factory=MetaFlags)
    data: bytes | None = None  # ms: the data block; None when too large
    chunk_ok: bool = True


@dataclass(slots=True)
class Command:
    """Every other command: delete, incr, decr, touch, verbosity (checked here) and
    flush_all, version, quit, stats, shutdown (checked by their verbs, which count them)."""

    command: bytes
    tokens: list[bytes]  # every token of the line, the command first
    key: bytes = b""
    number: int = 0  # incr/decr delta, touch exptime, verbosity level
    noreply: bool = False


@dataclass(slots=True)
class Auth:
    """memcached's ASCII authentication: the user and password of a fake `set`."""

    user: bytes
    password: bytes
    command: bytes = b"auth"


@dataclass(slots=True)
class ErrorReply:
    """A line memcached answers with an error before touching any item."""

    line: bytes
    noreply: bool = False
    command: bytes = b"error"


@dataclass(slots=True)
class Close:
    """Close the connection without a reply (line too long, an HTTP request)."""

    reason: str
    command: bytes = b"close"


MemcacheRequest = Retrieval | Storage | Meta | Command | Auth | ErrorReply | Close


# --- tokenizer ---


def tokenize(line: bytes) -> tuple[list[bytes], int]:
    """Split a command line on single spaces as tokenize_command does.

    Returns:
        The tokens (empty ones dropped) and memcached's `ntokens`: the number of tokens its
        first pass keeps (at most MAX_TOKENS - 1) plus the terminal one.
    """
    tokens = line.split(b" ")
    if b"" in tokens:
        tokens = [t for t in tokens if t]
    return tokens, min(len(tokens), MAX_TOKENS - 1) + 1


def item_total_bytes(nkey: int, flags: int, nbytes: int) -> int:
    """memcached's ITEM_ntotal for a value of `nbytes` bytes (CRLF and CAS included)."""
    return ITEM_HEADER_BYTES + nkey + 1 + (4 if flags else 0) + nbytes + 2 + CAS_BYTES


def _noreply(tokens: list[bytes], ntokens: int) -> bool:
    """set_noreply_maybe: the last token the first tokenizer pass kept is "noreply"."""
    return ntokens >= 2 and tokens[ntokens - 2] == b"noreply"


# --- parser ---

_LINE, _DATA, _SWALLOW, _CLOSED, _AUTH_LINE, _AUTH_DATA = range(6)


class MemcacheParser:
    """Sans-IO parser: `feed(bytes)`, then `next_request()` until it returns None.

    Args:
        max_item_bytes: memcached's -I (item_size_max); larger items are refused and their
            data swallowed.
        max_get_line_bytes: the longest get/gets line buffered before closing.
        require_auth: start in memcached's ASCII authentication phase (-Y); call
            `authenticated()` once an `Auth` request's credentials are accepted.
    """

    __slots__ = (
        "_buf",
        "_more",
        "_more_bytes",
        "_more_clean",
        "_need",
        "_pending",
        "_pos",
        "_state",
        "max_get_line_bytes",
        "max_item_bytes",
    )

    def __init__(
        self,
        max_item_bytes: int = 1024 * 1024,
        max_get_line_bytes: int = MAX_GET_LINE_BYTES,
        require_auth: bool = False,
    ) -> None:
        self.max_item_bytes = max_item_bytes
        self.max_get_line_bytes = max_get_line_bytes
        self._buf = b""
        self._pos = 0
        # Chunks fed while the buffer holds no complete line or block; joined only once
        # enough bytes are there, so a value arriving in many pieces is copied once.
        self._more: list[bytes] = []
        self._more_bytes = 0
        self._more_clean = 0  # leading chunks of _more known to hold no newline
        self._state = _AUTH_LINE if require_auth else _LINE
        self._need = 0
        self._pending: Storage | Meta | None = None

    @property
    def require_auth(self) -> bool:
        return self._state in (_AUTH_LINE, _AUTH_DATA)

    def authenticated(self) -> None:
        """The credentials were accepted: parse ordinary commands from now on."""
        if self._state == _AUTH_LINE:
            self._state = _LINE

    @property
    def awaiting_data(self) -> bool:
        """Whether a storage command waits for (or swallows) its data block."""
        return self._state in (_DATA, _SWALLOW)

    @property
    def buffered_bytes(self) -> int:
        return len(self._buf) - self._pos + self._more_bytes

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        if not data:
            return
        if self._pos >= len(self._buf) and not self._more:
            self._buf = data
            self._pos = 0
        else:
            self._more.append(data)
            self._more_bytes += len(data)

    @property
    def idle(self) -> bool:
        """Whether the parser holds nothing and waits for a command line (not for
        credentials): only then may `lone_request` and `plain_run` be asked."""
        return self._state == _LINE and self._pos >= len(self._buf) and not self._more

    def lone_request(self, data: bytes) -> bytes | PlainRequest | None:
        """What `next_request` would make of `data` when `data` is exactly one `get` line
        (keys apart by single spaces) or one plain `set` (see `_plain_set`) with its data
        block, CRLF-ended and without NUL in the line; else None. A get of one key comes as
        that key, a get of more as the list of its keys, a set as its `PlainSet`. Nothing is
        consumed either way: the caller runs the request itself, or feeds `data`.

        Ask only an `idle` parser (the caller keeps track, which costs less than a test on
        every read): what it holds otherwise comes first.
        """
        end = data.find(10)
        if end < 1 or end >= READ_BUFFER_BYTES or data[end - 1] != 13:
            return None
        head = data[:4]
        if head == b"get ":
            if end != len(data) - 1 or 0 in data:
                return None
            keys = data[4:-2]
            if 32 not in keys:  # one key: no split (a third of the cost of this line)
                return keys or None
            split = keys.split(b" ")
            return None if b"" in split else split
        if head == b"set ":
            line = data[: end - 1]
            tokens = line.split(b" ")
            n = len(tokens)
            if (n != 5 and (n != 6 or tokens[5] != b"noreply")) or b"" in tokens or 0 in line:
                return None
            # Nothing after the data block: pipelined sets are ruled out before the other
            # fields are read. (A block over 1024 bytes takes `plain_run`, as a run of one.)
            small = _SMALL_NUMBERS.get
            size = small(tokens[4])
            stop = end + 1 + (size or 0)
            if size is None or len(data) != stop + 2:
                return None
            # `_plain_set` inline for numbers below 1025 and an item far from the size
            # limit, the common set: without the call and the second read of the size, a
            # lone set costs 1.7% less server CPU (side by side). Anything else, there.
            key = tokens[1]
            flags = small(tokens[2])
            exptime = small(tokens[3])
            if (
                flags is None
                or exptime is None
                or len(key) > KEY_MAX_BYTES
                or 63 + len(key) + size > self.max_item_bytes
            ):
                return self._plain_set(tokens, data, end + 1)
            chunk_ok = data[stop] == 13 and data[stop + 1] == 10
            return (key, flags, exptime, data[end + 1 : stop], chunk_ok, n == 6)
        return None

    def plain_run(self, data: bytes, max_replies: int) -> list[PlainRequest] | None:
        """What `next_request` would make of `data` (as `PlainRequest`s), read in one pass,
        when `data` is only whole `get` lines and plain `set`s with their data blocks, each
        as `lone_request` takes one, whose replies come to at most `max_replies` pieces (three
        per key a get asks for and one for its END, one per set); else None. What a client
        pipelining gets or sets sends. Nothing is consumed either way. Ask only an `idle`
        parser, as for `lone_request`."""
        if data[:4] == b"get " and b"\nset " not in data:
            return self._get_run(data, max_replies)
        requests: list[PlainRequest] = []
        append = requests.append
        pos = 0
        size = len(data)
        while pos < size:
            end = data.find(10, pos)
            # A longer line takes `next_request`'s own path (long gets, too long a line).
            if end < 0 or end - pos >= READ_BUFFER_BYTES or data[end - 1] != 13:
                return None
            head = data[pos : pos + 4]
            if head == b"get ":
                line = data[pos + 4 : end - 1]
                keys = line.split(b" ")
                max_replies -= 3 * len(keys) + 1
                if max_replies < 0 or b"" in keys or 0 in line:
                    return None
                append(keys)
                pos = end + 1
            elif head == b"set ":
                line = data[pos : end - 1]
                tokens = line.split(b" ")
                if not 5 <= len(tokens) <= 6 or b"" in tokens or 0 in line:
                    return None
                request = self._plain_set(tokens, data, end + 1)
                if request is None:
                    return None
                max_replies -= 1
                if max_replies < 0:
                    return None
                append(request)
                pos = end + 3 + len(request[3])
            else:
                return None
        return requests

    def _get_run(self, data: bytes, max_replies: int) -> list[PlainRequest] | None:
        """`plain_run` for `get` lines only, the common case, split in one step (a third of
        the cost per line of finding each line end)."""
        if 0 in data:
            return None
        lines = data.split(b"\r\n")
        if lines.pop() or data.count(10) != len(lines):
            return None  # not CRLF-ended, or a bare LF ends a line of its own
        requests: list[PlainRequest] = []
        append = requests.append
        for line in lines:
            if line[:4] != b"get " or len(line) >= READ_BUFFER_BYTES - 1:
                return None  # a longer line takes `next_request`'s own path for long gets
            key = line[4:]
            if 32 not in key:  # one key: no split, as in lone_request
                if not key:
                    return None
                max_replies -= 4
                keys = [key]
            else:
                keys = key.split(b" ")
                max_replies -= 3 * len(keys) + 1
                if b"" in keys:
                    return None
            if max_replies < 0:
                return None
            append(keys)
        return requests

    def _join(self) -> None:
        self._buf = self._buf[self._pos :] + b"".join(self._more)
        self._pos = 0
        self._more.clear()
        self._more_bytes = 0
        self._more_clean = 0

    def _peek(self, nbytes: int) -> bytes:
        """The first `nbytes` unparsed bytes, without joining everything."""
        head = self._buf[self._pos : self._pos + nbytes]
        for chunk in self._more:
            if len(head) >= nbytes:
                break
            head += chunk[: nbytes - len(head)]
        return head

    def next_request(self) -> MemcacheRequest | None:
        """The next complete request, or None until more bytes are fed."""
        while True:
            state = self._state
            if state == _LINE:
                # Fast path: a whole line of ordinary length is in the buffer.
                buf = self._buf
                pos = self._pos
                end = buf.find(b"\n", pos)
                if end < 0 or end - pos >= READ_BUFFER_BYTES:
                    if pos >= len(buf) and not self._more:
                        return None  # everything fed was read: the usual end of a batch
                    return self._next_line()
                self._pos = end + 1
                if end - pos > 1 and buf[end - 1] == 13:
                    return self._parse_line(buf[pos : end - 1])
                return self._parse_line(buf[pos:end])
            if state == _DATA:
                return self._next_data()
            if state == _SWALLOW:
                if not self._swallow():
                    return None
                continue
            if state in (_AUTH_LINE, _AUTH_DATA):
                return self._next_auth()
            return None  # closed

    # --- framing ---

    def _next_line(self) -> MemcacheRequest | None:
        buf = self._buf
        pos = self._pos
        end = buf.find(b"\n", pos)
        if end < 0:
            more = self._more
            while self._more_clean < len(more) and b"\n" not in more[self._more_clean]:
                self._more_clean += 1
            if self._more_clean == len(more):
                return self._check_partial_line()
            self._join()
            buf = self._buf
            pos = 0
            end = buf.find(b"\n")
        line = buf[pos:end]
        self._pos = end + 1
        if len(line) >= READ_BUFFER_BYTES:
            if not self._is_get_line(line[:128]):
                return self._close("line too long")
            if len(line) > self.max_get_line_bytes:
                return self._close("multi-get line too long")
        if len(line) > 1 and line[-1] == 13:
            line = line[:-1]
        return self._parse_line(line)

    def _check_partial_line(self) -> MemcacheRequest | None:
        size = self.buffered_bytes
        if size <= LINE_MAX_BYTES:
            return None
        if not self._is_get_line(self._peek(128)):
            return self._close("line too long")
        if size > self.max_get_line_bytes:
            return self._close("multi-get line too long")
        return None

    @staticmethod
    def _is_get_line(line: bytes) -> bool:
        stripped = line.lstrip(b" ")
        if len(line) - len(stripped) > 100:
            return False
        return stripped.startswith((b"get ", b"gets "))

    def _close(self, reason: str) -> Close:
        self._state = _CLOSED
        self._buf = b""
        self._pos = 0
        self._more.clear()
        self._more_bytes = 0
        self._more_clean = 0
        return Close(reason)

    def _expect_data(self, request: Storage | Meta, nbytes: int) -> MemcacheRequest | None:
        self._state = _DATA
        self._need = nbytes + 2
        self._pending = request
        return self._next_data()

    def _next_data(self) -> MemcacheRequest | None:
        need = self._need
        if len(self._buf) - self._pos < need:
            if len(self._buf) - self._pos + self._more_bytes < need:
                return None
            self._join()
        start = self._pos
        block = self._buf[start : start + need]
        self._pos = start + need
        request = self._pending
        assert request is not None
        self._pending = None
        self._state = _LINE
        request.data = block[:-2]
        request.chunk_ok = block[-2:] == b"\r\n"
        return request

    def _start_swallow(self, nbytes: int) -> None:
        self._state = _SWALLOW
        self._need = nbytes

    def _swallow(self) -> bool:
        """Drop up to `_need` buffered bytes; True once all of them are gone."""
        available = len(self._buf) - self._pos
        take = min(available, self._need)
        self._pos += take
        self._need -= take
        while self._need and self._more:
            chunk = self._more.pop(0)
            self._more_bytes -= len(chunk)
            self._more_clean = max(0, self._more_clean - 1)
            if len(chunk) <= self._need:
                self._need -= len(chunk)
            else:
                self._buf = chunk
                self._pos = self._need
                self._need = 0
        if self._need:
            return False
        self._state = _LINE
        return True

    # --- authentication (try_read_command_asciiauth) ---

    def _next_auth(self) -> MemcacheRequest | None:
        if self._state == _AUTH_LINE:
            if self.buffered_bytes < 2:
                return None
            if self._more:
                self._join()
            buf, pos = self._buf, self._pos
            end = buf.find(b"\n", pos)
            if end < 0:
                return self._close("line too long") if len(buf) - pos > LINE_MAX_BYTES else None
            line = buf[pos:end]  # the \r stays: strtoul stops at it
            self._pos = end + 1
            if b"\0" in line:
                line = line[: line.index(b"\0")]
            tokens, ntokens = tokenize(line)
            size = c_strtoul(tokens[4]) if ntokens >= 6 and tokens[0] == b"set" else None
            if size is None:
                return ErrorReply(ERR_UNAUTHENTICATED)
            if size + 2 > READ_BUFFER_BYTES:
                return self._close("authentication data too long")
            self._state = _AUTH_DATA
            self._need = size + 2
        need = self._need
        if self.buffered_bytes < need:
            return None
        if len(self._buf) - self._pos < need:
            self._join()
        block = self._buf[self._pos : self._pos + need]
        self._pos += need
        self._state = _AUTH_LINE
        if block[-2:] != b"\r\n":
            return ErrorReply(ERR_AUTH_TERMINATION)
        payload = block[:-2]
        if b"\0" in payload:
            payload = payload[: payload.index(b"\0")]
        tokens, ntokens = tokenize(payload)
        if ntokens < 3:
            return ErrorReply(ERR_AUTH_FORMAT)
        return Auth(tokens[0], tokens[1])

    # --- command lines (process_command_ascii) ---

    def _parse_line(self, line: bytes) -> MemcacheRequest | None:
        if b"\0" in line:
            line = line[: line.index(b"\0")]  # memcached tokenizes a C string
        tokens = line.split(b" ")
        if b"" in tokens:
            tokens = [t for t in tokens if t]
        count = len(tokens)
        if not count or len(tokens[0]) < 2:
            return ErrorReply(ERROR)
        command = tokens[0]
        if command == b"get" and count > 1:
            return Retrieval(command, tokens[1:])  # _get, the commonest line, without a call
        if command == b"set" and 5 <= count <= 6:
            plain = self._plain_set(tokens, self._buf, self._pos)
            if plain is not None:
                key, flags, exptime, data, chunk_ok, noreply = plain
                self._pos += len(data) + 2
                return Storage(command, key, flags, exptime, data, 0, noreply, chunk_ok)
        ntokens = count + 1 if count < MAX_TOKENS - 1 else MAX_TOKENS
        handler = _DISPATCH.get(command)
        if handler is not None:
            return handler(self, command, tokens, ntokens)
        first = command[0]
        if first == 109 and len(command) == 2:  # 'm': an unknown meta command
            return ErrorReply(ERROR)
        if first in _FIRST_CHAR_BRANCHES:
            return ErrorReply(ERROR)
        # Neither a command nor a known first letter: an HTTP request line closes.
        if tokens[ntokens - 2].startswith(b"HTTP/"):
            return self._close("HTTP request")
        return ErrorReply(ERROR)

    def _get(self, command: bytes, tokens: list[bytes], ntokens: int) -> MemcacheRequest | None:
        if ntokens < 3:
            return ErrorReply(ERROR)
        return Retrieval(command, tokens[1:])

    def _retrieval(
        self, command: bytes, tokens: list[bytes], ntokens: int
    ) -> MemcacheRequest | None:
        if ntokens < 3:
            return ErrorReply(ERROR)
        if command == b"bget":
            command = b"get"
        if command in (b"gat", b"gats"):
            exptime = c_strtol(tokens[1])
            if exptime is None:
                return ErrorReply(ERR_INVALID_EXPTIME)
            return Retrieval(command, tokens[2:], exptime)
        return Retrieval(command, tokens[1:])

    def _plain_set(self, tokens: list[bytes], buf: bytes, start: int) -> PlainSet | None:
        """`set <key> <flags> <exptime> <bytes> [noreply]` whose numbers are short plain
        decimals and whose data block is in `buf` from `start`: the fields of what `_storage`
        makes of it, in fewer steps, without consuming anything. None for anything else (the
        caller then takes `_storage`)."""
        noreply = len(tokens) == 6
        if noreply and tokens[5] != b"noreply":
            return None  # _storage ignores that token
        key = tokens[1]
        if len(key) > KEY_MAX_BYTES:
            return None
        small = _SMALL_NUMBERS.get
        flags = small(tokens[2])
        exptime = small(tokens[3])
        vlen = small(tokens[4])
        if flags is None or exptime is None or vlen is None:
            numbers = tokens[2] + tokens[3] + tokens[4]
            # Fewer than 10 digits in all: each number is below 10**9, nothing to truncate.
            if len(numbers) >= 10 or not numbers.isdigit():
                return None
            flags = int(tokens[2])
            exptime = int(tokens[3])
            vlen = int(tokens[4])
        end = start + vlen
        # item_total_bytes with the flags' 4 bytes counted: near the limit, `_storage` decides.
        if len(buf) < end + 2 or 63 + len(key) + vlen > self.max_item_bytes:
            return None
        # The block's end read byte by byte: a slice and its comparison cost three times more.
        return (key, flags, exptime, buf[start:end], buf[end] == 13 and buf[end + 1] == 10, noreply)

    def _storage(self, command: bytes, tokens: list[bytes], ntokens: int) -> MemcacheRequest | None:
        is_cas = command == b"cas"
        if is_cas:
            if ntokens != 7 and ntokens != 8:
                return ErrorReply(ERROR)
        elif ntokens != 6 and ntokens != 7:
            return ErrorReply(ERROR)
        noreply = tokens[ntokens - 2] == b"noreply"
        key = tokens[1]
        if len(key) > KEY_MAX_BYTES:
            return ErrorReply(ERR_BAD_FORMAT, noreply)
        # Plain decimal tokens are the common case; anything else goes through C's rules.
        token = tokens[2]
        flags = int(token) if len(token) < 10 and token.isdigit() else c_strtoul(token)
        exptime: int | None = None
        vlen: int | None = None
        if flags is not None:
            token = tokens[3]
            exptime = int(token) if len(token) < 10 and token.isdigit() else c_strtol(token)
            if exptime is not None:
                token = tokens[4]
                vlen = int(token) if len(token) < 10 and token.isdigit() else c_strtol(token)
        if flags is None or exptime is None or vlen is None:
            return ErrorReply(ERR_BAD_FORMAT, noreply)
        cas = 0
        if is_cas:
            parsed = c_strtoull(tokens[5])
            if parsed is None:
                return ErrorReply(ERR_BAD_FORMAT, noreply)
            cas = parsed
        if vlen < 0 or vlen > INT32_MAX - 2:
            return ErrorReply(ERR_BAD_FORMAT, noreply)
        request = Storage(command, key, flags, exptime, None, cas, noreply)
        # item_total_bytes, inlined: header, key + NUL, flags, data + CRLF, CAS.
        if 59 + len(key) + vlen + (4 if flags else 0) > self.max_item_bytes:
            self._start_swallow(vlen + 2)
            return request
        need = vlen + 2
        buf = self._buf
        start = self._pos
        if len(buf) - start >= need:
            # The data block is already here: take it without a state change.
            self._pos = start + need
            request.data = buf[start : start + vlen]
            if buf[start + vlen : start + need] != b"\r\n":
                request.chunk_ok = False
            return request
        return self._expect_data(request, vlen)

    def _simple(self, command: bytes, tokens: list[bytes], ntokens: int) -> MemcacheRequest | None:
        """Commands whose line is checked by their verb (which counts them in stats)."""
        return Command(command, tokens, noreply=_noreply(tokens, ntokens))

    def _delete(self, command: bytes, tokens: list[bytes], ntokens: int) -> MemcacheRequest | None:
        if not 3 <= ntokens <= 5:
            return ErrorReply(ERROR)
        noreply = False
        if ntokens > 3:
            hold_is_zero = tokens[2] == b"0"
            noreply = _noreply(tokens, ntokens)
            valid = (ntokens == 4 and (hold_is_zero or noreply)) or (
                ntokens == 5 and hold_is_zero and noreply
            )
            if not valid:
                return ErrorReply(ERR_DELETE_USAGE, noreply)
        key = tokens[1]
        if len(key) > KEY_MAX_BYTES:
            return ErrorReply(ERR_BAD_FORMAT, noreply)
        return Command(command, tokens, key, noreply=noreply)

    def _arithmetic(
        self, command: bytes, tokens: list[bytes], ntokens: int
    ) -> MemcacheRequest | None:
        if ntokens not in (4, 5):
            return ErrorReply(ERROR)
        noreply = _noreply(tokens, ntokens)
        key = tokens[1]
        if len(key) > KEY_MAX_BYTES:
            return ErrorReply(ERR_BAD_FORMAT, noreply)
        delta = c_strtoull(tokens[2])
        if delta is None:
            return ErrorReply(ERR_INVALID_DELTA, noreply)
        return Command(command, tokens, key, delta, noreply)

    def _touch(self, command: bytes, tokens: list[bytes], ntokens: int) -> MemcacheRequest | None:
        if ntokens not in (4, 5):
            return ErrorReply(ERROR)
        noreply = _noreply(tokens, ntokens)
        key = tokens[1]
        if len(key) > KEY_MAX_BYTES:
            return ErrorReply(ERR_BAD_FORMAT, noreply)
        exptime = c_strtol(tokens[2])
        if exptime is None:
            return ErrorReply(ERR_INVALID_EXPTIME, noreply)
        return Command(command, tokens, key, exptime, noreply)

    def _verbosity(
        self, command: bytes, tokens: list[bytes], ntokens: int
    ) -> MemcacheRequest | None:
        if ntokens not in (3, 4):
            return ErrorReply(ERROR)
        noreply = _noreply(tokens, ntokens)
        level = c_strtoul(tokens[1])
        if level is None:
            return ErrorReply(ERR_BAD_FORMAT, noreply)
        return Command(command, tokens, number=level, noreply=noreply)

    def _flush_all(
        self, command: bytes, tokens: list[bytes], ntokens: int
    ) -> MemcacheRequest | None:
        if not 2 <= ntokens <= 4:
            return ErrorReply(ERROR)
        return Command(command, tokens, noreply=_noreply(tokens, ntokens))

    def _stats_or_shutdown(
        self, command: bytes, tokens: list[bytes], ntokens: int
    ) -> MemcacheRequest | None:
        # Only the tokens of the first tokenizer pass exist for these commands.
        return Command(command, tokens[: ntokens - 1])

    def _unsupported(
        self, command: bytes, tokens: list[bytes], ntokens: int
    ) -> MemcacheRequest | None:
        """Admin commands Duocache does not implement (slabs, lru, watch, ...): ERROR."""
        return ErrorReply(ERROR)

    # --- meta commands ---

    def _meta_key(
        self, tokens: list[bytes], ntokens: int, max_error: bytes
    ) -> tuple[bytes, MetaFlags] | ErrorReply:
        """The checks every meta command makes on its key and flag count."""
        if len(tokens[1]) > KEY_MAX_BYTES:
            return ErrorReply(ERR_BAD_FORMAT)
        if ntokens > META_MAX_TOKENS:
            return ErrorReply(max_error)
        return tokens[1], MetaFlags()

    def _mg(self, command: bytes, tokens: list[bytes], ntokens: int) -> MemcacheRequest | None:
        if ntokens < 3:
            return ErrorReply(ERROR)
        checked = self._meta_key(tokens, ntokens, ERR_FLAGS_TOO_LONG_MG)
        if isinstance(checked, ErrorReply):
            return checked
        flag_tokens = tokens[2 : ntokens - 1]
        key, error, flags = preparse_meta_flags(tokens[1], flag_tokens)
        if error is not None:
            return ErrorReply(error)
        return Meta(command, key, flag_tokens, flags)

    def _ms(self, command: bytes, tokens: list[bytes], ntokens: int) -> MemcacheRequest | None:
        if ntokens < 3:
            return ErrorReply(ERROR)
        if len(tokens[1]) > KEY_MAX_BYTES or ntokens == 3:
            return ErrorReply(ERR_BAD_FORMAT)
        if ntokens > META_MAX_TOKENS:
            return ErrorReply(ERR_FLAGS_TOO_LONG)
        vlen = c_strtol(tokens[2])
        if vlen is None or vlen < 0 or vlen > INT32_MAX - 2:
            return ErrorReply(ERR_BAD_FORMAT)
        # From here on an error swallows the data block, as memcached does.
        flag_tokens = tokens[3 : ntokens - 1]
        key, error, flags = preparse_meta_flags(tokens[1], flag_tokens)
        if error is None:
            for token in flag_tokens:
                if token[0] == 79 and len(token) > OPAQUE_MAX_BYTES:  # 'O'
                    error = ERR_OPAQUE_TOO_LONG
                    break
        if error is None and flags.mode not in (0, 69, 65, 80, 82, 83):  # E A P R S
            error = ERR_MS_MODE
        if error is not None:
            self._start_swallow(vlen + 2)
            return ErrorReply(error)
        request = Meta(command, key, flag_tokens, flags)
        if item_total_bytes(len(key), flags.client_flags, vlen) > self.max_item_bytes:
            self._start_swallow(vlen + 2)
            return request
        return self._expect_data(request, vlen)

    def _md(self, command: bytes, tokens: list[bytes], ntokens: int) -> MemcacheRequest | None:
        if ntokens < 3:
            return ErrorReply(ERROR)
        checked = self._meta_key(tokens, ntokens, ERR_FLAGS_TOO_LONG)
        if isinstance(checked, ErrorReply):
            return checked
        flag_tokens = tokens[2 : ntokens - 1]
        key, error, flags = preparse_meta_flags(tokens[1], flag_tokens)
        if error is not None:
            return ErrorReply(ERR_INVALID_OR_DUPLICATE_FLAG)
        for token in flag_tokens:
            if token[0] == 79 and len(token) > OPAQUE_MAX_BYTES:
                return ErrorReply(ERR_OPAQUE_TOO_LONG)
        return Meta(command, key, flag_tokens, flags)

    def _ma(self, command: bytes, tokens: list[bytes], ntokens: int) -> MemcacheRequest | None:
        if ntokens < 3:
            return ErrorReply(ERROR)
        checked = self._meta_key(tokens, ntokens, ERR_FLAGS_TOO_LONG)
        if isinstance(checked, ErrorReply):
            return checked
        flag_tokens = tokens[2 : ntokens - 1]
        key, error, flags = preparse_meta_flags(tokens[1], flag_tokens)
        if error is not None:
            return ErrorReply(ERR_INVALID_OR_DUPLICATE_FLAG)
        if flags.mode not in (0, 73, 43, 68, 45):  # I + D -
            return ErrorReply(ERR_MA_MODE)
        return Meta(command, key, flag_tokens, flags)

    def _me(self, command: bytes, tokens: list[bytes], ntokens: int) -> MemcacheRequest | None:
        if ntokens < 3 or len(tokens[1]) > KEY_MAX_BYTES:
            return ErrorReply(ERR_BAD_FORMAT)
        key = tokens[1]
        flags = MetaFlags()
        if ntokens >= 4 and tokens[2] == b"b":
            decoded = base64_decode(key)
            if decoded is None:
                return ErrorReply(ERR_BAD_FORMAT)
            key = decoded
            flags.key_binary = True
        return Meta(command, key, [], flags)

    def _mn(self, command: bytes, tokens: list[bytes], ntokens: int) -> MemcacheRequest | None:
        return Meta(command, b"", [])


def preparse_meta_flags(
    key: bytes, flag_tokens: list[bytes]
) -> tuple[bytes, bytes | None, MetaFlags]:
    """_meta_flag_preparse: read the flag tokens of a meta command.

    Returns:
        The key (base64-decoded with `b`), the error line memcached would send (None when
        the flags are fine) and the flags. As in memcached, a duplicate or unknown flag stops
        at once; a bad token is remembered and the scan goes on, the last error winning.
    """
    flags = MetaFlags()
    seen: set[int] = set()
    error: bytes | None = None
    failed = False
    for token in flag_tokens:
        flag = token[0]
        if flag >= 127 or flag in seen:
            return key, ERR_DUPLICATE_FLAG, flags
        seen.add(flag)
        if flag == 98:  # b
            decoded = base64_decode(key)
            if decoded is None:
                error = ERR_DECODING_KEY
                failed = True
                key = b""
            else:
                key = decoded
            flags.key_binary = True
        elif flag in (78, 84, 82):  # N T R: a TTL token
            number = c_strtol(token[1:])
            if number is None:
                error = ERR_BAD_TOKEN
                failed = True
            elif flag == 78:
                flags.vivify = True
                flags.autoviv_exptime = number
            elif flag == 84:
                flags.exptime = number
                flags.new_ttl = True
            else:
                flags.recache_time = number
                flags.has_recache = True
        elif flag in _META_PLAIN_FLAGS:
            if flag == 118:  # v
                flags.value = True
            elif flag == 117:  # u
                flags.no_update = True
            elif flag == 113:  # q
                flags.no_reply = True
        elif flag == 70:  # F
            number = c_strtoul(token[1:])
            if number is None:
                failed = True
            else:
                flags.client_flags = number
        elif flag == 67:  # C
            number = c_strtoull(token[1:])
            if number is None:
                error = ERR_BAD_TOKEN
                failed = True
            else:
                flags.req_cas = number
                flags.has_cas = True
        elif flag == 77:  # M
            if len(token) != 2:
                error = ERR_M_TOKEN_LENGTH
                failed = True
            else:
                flags.mode = token[1]
        elif flag == 74:  # J
            number = c_strtoull(token[1:])
            if number is None:
                error = ERR_INITIAL_VALUE
                failed = True
            else:
                flags.initial = number
        elif flag == 68:  # D
            number = c_strtoull(token[1:])
            if number is None:
                error = ERR_DELTA_VALUE
                failed = True
            else:
                flags.delta = number
        elif flag == 73:  # I
            flags.set_stale = True
        else:
            return key, ERR_INVALID_FLAG, flags
    if failed:
        return key, error or ERR_BAD_FORMAT, flags
    return key, None, flags


# Flags _meta_flag_preparse accepts without a token of their own to check.
_META_PLAIN_FLAGS: Final = frozenset(b"OPLkstcfvhluq")

# The first letters process_command_ascii branches on: a command starting with one of them
# that is none of that branch's commands is an ERROR, never an HTTP close.
_FIRST_CHAR_BRANCHES: Final = frozenset(b"gsacidt")

_DISPATCH: Final = {
    b"get": MemcacheParser._get,
    b"gets": MemcacheParser._get,
    b"gat": MemcacheParser._retrieval,
    b"gats": MemcacheParser._retrieval,
    b"bget": MemcacheParser._retrieval,
    b"set": MemcacheParser._storage,
    b"add": MemcacheParser._storage,
    b"replace": MemcacheParser._storage,
    b"append": MemcacheParser._storage,
    b"prepend": MemcacheParser._storage,
    b"cas": MemcacheParser._storage,
    b"delete": MemcacheParser._delete,
    b"incr": MemcacheParser._arithmetic,
    b"decr": MemcacheParser._arithmetic,
    b"touch": MemcacheParser._touch,
    b"verbosity": MemcacheParser._verbosity,
    b"flush_all": MemcacheParser._flush_all,
    b"version": MemcacheParser._simple,
    b"quit": MemcacheParser._simple,
    b"stats": MemcacheParser._stats_or_shutdown,
    b"shutdown": MemcacheParser._stats_or_shutdown,
    b"mg": MemcacheParser._mg,
    b"ms": MemcacheParser._ms,
    b"md": MemcacheParser._md,
    b"ma": MemcacheParser._ma,
    b"me": MemcacheParser._me,
    b"mn": MemcacheParser._mn,
    b"slabs": MemcacheParser._unsupported,
    b"cache_memlimit": MemcacheParser._unsupported,
    b"lru_crawler": MemcacheParser._unsupported,
    b"watch": MemcacheParser._unsupported,
    b"lru": MemcacheParser._unsupported,
    b"extstore": MemcacheParser._unsupported,
    b"refresh_certs": MemcacheParser._unsupported,
}


# --- reply encoders ---

CRLF: Final = b"\r\n"
END: Final = b"END\r\n"
STORED: Final = b"STORED\r\n"
NOT_STORED: Final = b"NOT_STORED\r\n"
EXISTS: Final = b"EXISTS\r\n"
NOT_FOUND: Final = b"NOT_FOUND\r\n"
DELETED: Final = b"DELETED\r\n"
TOUCHED: Final = b"TOUCHED\r\n"
OK: Final = b"OK\r\n"
RESET: Final = b"RESET\r\n"
MN: Final = b"MN\r\n"
EN: Final = b"EN\r\n"


def value_header(key: bytes, flags: int, nbytes: int, cas: int | None = None) -> bytes:
    """`VALUE <key> <flags> <bytes> [<cas>]` with its CRLF."""
    if cas is None:
        return b"VALUE %b %d %d\r\n" % (key, flags, nbytes)
    return b"VALUE %b %d %d %d\r\n" % (key, flags, nbytes, cas)


def stat_line(name: bytes, value: bytes | int | str) -> bytes:
    """`STAT <name> <value>` with its CRLF."""
    if isinstance(value, int):
        return b"STAT %b %d\r\n" % (name, value)
    if isinstance(value, str):
        value = value.encode()
    return b"STAT %b %b\r\n" % (name, value)
