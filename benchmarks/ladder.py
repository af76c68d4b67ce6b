"""The ladder: the Python floor with Redis's per-command duties added back one rung at a time.

`make bench` reports the floor (benchmarks/floor.py): a uvloop + hiredis server that does
nothing but store each command's data (for GET and SET, in a dict). Duocache does what
Redis does for each command, and this module measures what that costs in Python, in its
cheapest form, one duty at a time. Each rung keeps the ones below it:

    1  command table: names in any case, arity errors, one handler per command
    2  types, TTLs and databases: WRONGTYPE on a non-string, a key's deadline checked on
       read and cleared by SET, the database the client has SELECTed
    3  statistics: INFO commandstats (calls and microseconds, one clock read per command),
       total commands, keyspace hits and misses, the SLOWLOG threshold
    4  write bookkeeping: the dirty counter (save points), used-memory accounting
       (maxmemory), WATCHed keys, keys that blocked clients wait on, keyspace notifications
    5  each read and write of a client's socket: the network byte counters, the client's
       last-interaction time (CLIENT LIST idle), the query-buffer limit, the client's
       state checked once a batch before its commands run (blocked, MULTI, subscribed,
       authenticated, CLIENT PAUSE, CLIENT REPLY, ...), the output-buffer limit
    6  requests read as Redis reads them: hiredis accepts framing that Redis refuses (a
       simple string where a bulk string belongs, a length with a leading zero, ...), so
       this rung reads with Duocache's RESPParser (protocol/resp.py), which answers such
       input with Redis's protocol errors: a request that came alone is split and checked
       in Python, a batch goes to hiredis after a scan for the frames only Redis refuses

Each rung answers GET, SET, FLUSHALL and CONFIG (which redis-benchmark sends) over RESP2;
rungs 3 to 5 share one loop, so rung 3 pays for a check that only rung 4's SET uses; rung 6
runs a copy of it over the parser's list (a shared form cost rung 5 570 to 830 instructions
a request).

With --memcache-port the server also answers memcached's get, set and mn with what
memcached does for each of them (MemcacheDuties): the floor's memcached side plus a verb
table, the checks of the command line (token count, key length, numbers, noreply, the data
block's end, the item size limit), items that keep their flags, CAS unique, deadline and
last access, and the statistics behind `stats` and `stats slabs` (commands, hits and
misses, per slab class, bytes read and written, items).

    python -m benchmarks.ladder --port 7000 --rung 3
    python -m benchmarks.ladder --port 7000 --rung 5 --memcache-port 7001
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence
from time import perf_counter_ns, time
from typing import Any

import hiredis
import uvloop

from protocol.errors import ProtocolError
from protocol.resp import RESPParser, error_bytes

RUNGS = {
    1: "command table: any case, arity, a handler per command",
    2: "+ types, TTLs, databases: WRONGTYPE, deadlines, SELECT",
    3: "+ statistics: commandstats, hits/misses, slowlog threshold",
    4: "+ write bookkeeping: dirty, memory, WATCH, blocked keys, notifications",
    5: "+ per read and write: byte counters, idle time, buffer limits, client state",
    6: "+ requests read as Redis reads them: its framing rules and protocol errors",
}

_NIL = b"$-1\r\n"
_OK = b"+OK\r\n"
_EMPTY = b"*0\r\n"
_WRONGTYPE = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
_SLOW_NS = 10_000_000  # slowlog-log-slower-than's default, 10 ms
_QUERY_BUFFER_MAX = 1 << 30  # client-query-buffer-limit
_OUTPUT_BUFFER_MAX = 0  # client-output-buffer-limit normal: none, as by default
_NEW_KEY_BYTES = 64


class Database:
    def __init__(self) -> None:
        self.data: dict[bytes, Any] = {}
        self.expires: dict[bytes, int] = {}
        self.watched: dict[bytes, list[Any]] = {}
        self.blocked: dict[bytes, list[Any]] = {}
        self.used = 0


class Stats:
    def __init__(self) -> None:
        self.commands = 0
        self.hits = 0
        self.misses = 0
        self.dirty = 0
        self.notify_classes = 0  # notify-keyspace-events, off as by default
        self.slow: list[tuple[bytes, int]] = []
        self.events: list[tuple[bytes, bytes]] = []  # keyspace notifications to publish
        self.ready: list[bytes] = []  # keys that blocked clients wait on, now written
        self.net_input = 0
        self.net_output = 0
        self.paused = False  # CLIENT PAUSE
        self.loading = False
        self.monitors: list[Any] = []
        self.now_s = int(time())  # the cached clock, as Redis's server.unixtime


class Client:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.dirty = 0
        self.dirty_cas = False  # a WATCHed key changed: EXEC will fail
        self.last_interaction = 0
        self.blocked: Any = None
        self.multi: list[Any] | None = None
        self.subscribed = False
        self.authenticated = True
        self.reply_on = True
        self.close_after_reply = False
        self.held: list[bytes] = []


Handler = Callable[[Client, list[bytes]], bytes]


class Spec:
    __slots__ = ("arity", "calls", "handler", "name", "usec")

    def __init__(self, name: bytes, arity: int, handler: Handler) -> None:
        self.name = name
        self.arity = arity
        self.handler = handler
        self.calls = 0
        self.usec = 0


_DB = Database()
_STATS = Stats()


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%b\r\n" % (len(value), value)


def _get_1(client: Client, argv: list[bytes]) -> bytes:
    value = _DB.data.get(argv[1])
    return _NIL if value is None else _bulk(value)


def _set_1(client: Client, argv: list[bytes]) -> bytes:
    _DB.data[argv[1]] = argv[2]
    return _OK


def _live(db: Database, key: bytes) -> Any:
    """The value at `key` unless its deadline has passed (then it is deleted)."""
    value = db.data.get(key)
    if value is not None and db.expires:
        deadline = db.expires.get(key)
        if deadline is not None and deadline < time() * 1000:
            del db.data[key], db.expires[key]
            return None
    return value


def _get_2(client: Client, argv: list[bytes]) -> bytes:
    value = _live(client.db, argv[1])
    if value is None:
        return _NIL
    if type(value) is not bytes:
        return _WRONGTYPE
    return _bulk(value)


def _set_2(client: Client, argv: list[bytes]) -> bytes:
    db = client.db
    key = argv[1]
    db.data[key] = argv[2]
    if db.expires:
        db.expires.pop(key, None)
    return _OK


def _get_3(client: Client, argv: list[bytes]) -> bytes:
    value = _live(client.db, argv[1])
    if value is None:
        _STATS.misses += 1
        return _NIL
    _STATS.hits += 1
    if type(value) is not bytes:
        return _WRONGTYPE
    return _bulk(value)


def _set_4(client: Client, argv: list[bytes]) -> bytes:
    db = client.db
    key = argv[1]
    value = argv[2]
    data = db.data
    old = data.get(key)
    data[key] = value
    if old is None:
        db.used += _NEW_KEY_BYTES + len(key) + len(value)
        if db.blocked and key in db.blocked:
            _STATS.ready.append(key)
    elif type(old) is bytes:
        db.used += len(value) - len(old)
    if db.expires:
        db.expires.pop(key, None)
    client.dirty = 1
    if db.watched and key in db.watched:
        for watcher in db.watched[key]:
            watcher.dirty_cas = True
    if _STATS.notify_classes:
        _STATS.events.append((b"set", key))
    return _OK


def _flushall(client: Client, argv: list[bytes]) -> bytes:
    _DB.data.clear()
    _DB.expires.clear()
    _DB.used = 0
    return _OK


def _config(client: Client, argv: list[bytes]) -> bytes:
    return _EMPTY


_HANDLERS: dict[int, tuple[Handler, Handler]] = {
    1: (_get_1, _set_1),
    2: (_get_2, _set_2),
    3: (_get_3, _set_2),
    4: (_get_3, _set_4),
    5: (_get_3, _set_4),
    6: (_get_3, _set_4),
}


def command_table(rung: int) -> dict[bytes, Spec]:
    """Lower-case name to spec, as Redis's command dict (looked up case-insensitively)."""
    get, set_ = _HANDLERS[rung]
    specs = [
        Spec(b"get", 2, get),
        Spec(b"set", -3, set_),
        Spec(b"flushall", -1, _flushall),
        Spec(b"config", -2, _config),
    ]
    table = {spec.name: spec for spec in specs}
    table.update({spec.name.upper(): spec for spec in specs})  # the usual spellings, one probe
    return table


def _unknown(argv: list[bytes]) -> bytes:
    return b"-ERR unknown command '%b'\r\n" % argv[0][:128]


def _wrong_arity(spec: Spec) -> bytes:
    return b"-ERR wrong number of arguments for '%b' command\r\n" % spec.name


class TableProtocol(asyncio.Protocol):
    """Rungs 1 and 2: look the command up, check its arity, call its handler."""

    def __init__(self, table: dict[bytes, Spec]) -> None:
        self.table = table

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.reader = hiredis.Reader()
        self.client = Client(_DB)

    def data_received(self, data: bytes) -> None:
        reader = self.reader
        reader.feed(data)
        out: list[bytes] = []
        append = out.append
        lookup = self.table.get
        client = self.client
        while (argv := reader.gets()) is not False:
            spec = lookup(argv[0]) or lookup(argv[0].lower())
            if spec is None:
                append(_unknown(argv))
                continue
            arity = spec.arity
            if (arity > 0 and len(argv) != arity) or len(argv) < -arity:
                append(_wrong_arity(spec))
                continue
            append(spec.handler(client, argv))
        if out:
            self.transport.write(b"".join(out))


class CountingProtocol(TableProtocol):
    """Rungs 3 and 4: the table, then statistics and the dirty count after each command."""

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        out = self.run_commands()
        if out:
            self.transport.write(b"".join(out))

    def run_commands(self) -> list[bytes]:
        """Every complete command read so far, run; their replies. The lookup and arity
        check repeat TableProtocol's: a shared helper would add a call per command to what
        the rungs measure."""
        reader = self.reader
        out: list[bytes] = []
        append = out.append
        lookup = self.table.get
        client = self.client
        stats = _STATS
        mark = perf_counter_ns()
        while (argv := reader.gets()) is not False:
            spec = lookup(argv[0]) or lookup(argv[0].lower())
            if spec is None:
                append(_unknown(argv))
                continue
            arity = spec.arity
            if (arity > 0 and len(argv) != arity) or len(argv) < -arity:
                append(_wrong_arity(spec))
                continue
            reply = spec.handler(client, argv)
            now = perf_counter_ns()
            elapsed = now - mark
            mark = now
            spec.calls += 1
            spec.usec += elapsed // 1000
            stats.commands += 1
            if elapsed >= _SLOW_NS:
                stats.slow.append((spec.name, elapsed // 1000))
            if client.dirty:
                stats.dirty += client.dirty
                client.dirty = 0
            append(reply)
        return out


class ClientProtocol(CountingProtocol):
    """Rung 5: rung 4, with the duties of each read from and write to the socket."""

    def data_received(self, data: bytes) -> None:
        transport = self.transport
        if transport.is_closing():
            return
        client = self.client
        stats = _STATS
        stats.net_input += len(data)
        client.last_interaction = stats.now_s
        if client.blocked is not None:
            client.held.append(data)  # read once the blocking command ends
            return
        reader = self.reader
        reader.feed(data)
        if reader.len() > _QUERY_BUFFER_MAX:
            transport.close()
            return
        if (
            client.multi is not None
            or client.subscribed
            or not client.authenticated
            or not client.reply_on
            or client.close_after_reply
            or stats.paused
            or stats.loading
            or stats.monitors
        ):
            # Each of these changes what a command does or where its reply goes; this
            # server never enters them (the checks are what the rung measures).
            transport.close()
            return
        out = self.run_commands()
        if out:
            payload = b"".join(out)
            stats.net_output += len(payload)
            transport.write(payload)
            if _OUTPUT_BUFFER_MAX and transport.get_write_buffer_size() > _OUTPUT_BUFFER_MAX:
                transport.close()


class FramingProtocol(ClientProtocol):
    """Rung 6: rung 5, with requests read by Duocache's RESPParser instead of bare hiredis.
    Its `data_received` repeats rung 5's duties rather than sharing them through calls that
    would change what rung 5 measures."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self.parser = RESPParser(max_buffer_bytes=_QUERY_BUFFER_MAX)

    def data_received(self, data: bytes) -> None:
        transport = self.transport
        if transport.is_closing():
            return
        client = self.client
        stats = _STATS
        stats.net_input += len(data)
        client.last_interaction = stats.now_s
        if client.blocked is not None:
            client.held.append(data)
            return
        if (
            client.multi is not None
            or client.subscribed
            or not client.authenticated
            or not client.reply_on
            or client.close_after_reply
            or stats.paused
            or stats.loading
            or stats.monitors
        ):
            transport.close()
            return
        parser = self.parser
        argv = parser.lone_request(data)
        if argv is not None:
            self._write(self.run_list((argv,)))
            return
        out: list[bytes] = []
        try:
            parser.feed(data)  # past the query-buffer limit it raises, with no reply due
            while batch := parser.read_commands():
                out += self.run_list(batch)
        except ProtocolError as e:
            if e.reply:
                out.append(error_bytes("ERR " + e.text))
            self._write(out)
            transport.close()
            return
        self._write(out)

    def run_list(self, commands: Sequence[list[bytes]]) -> list[bytes]:
        """`run_commands` over commands already read: the same loop over a list."""
        out: list[bytes] = []
        append = out.append
        lookup = self.table.get
        client = self.client
        stats = _STATS
        mark = perf_counter_ns()
        for argv in commands:
            spec = lookup(argv[0]) or lookup(argv[0].lower())
            if spec is None:
                append(_unknown(argv))
                continue
            arity = spec.arity
            if (arity > 0 and len(argv) != arity) or len(argv) < -arity:
                append(_wrong_arity(spec))
                continue
            reply = spec.handler(client, argv)
            now = perf_counter_ns()
            elapsed = now - mark
            mark = now
            spec.calls += 1
            spec.usec += elapsed // 1000
            stats.commands += 1
            if elapsed >= _SLOW_NS:
                stats.slow.append((spec.name, elapsed // 1000))
            if client.dirty:
                stats.dirty += client.dirty
                client.dirty = 0
            append(reply)
        return out

    def _write(self, out: list[bytes]) -> None:
        """The replies of a read in one write, counted, under the output-buffer limit."""
        if out:
            transport = self.transport
            payload = b"".join(out)
            _STATS.net_output += len(payload)
            transport.write(payload)
            if _OUTPUT_BUFFER_MAX and transport.get_write_buffer_size() > _OUTPUT_BUFFER_MAX:
                transport.close()


async def _tick() -> None:
    """Keep the cached clock (Redis updates server.unixtime in its cron)."""
    while True:
        _STATS.now_s = int(time())
        await asyncio.sleep(0.1)


# --- memcached ---

_KEY_MAX = 250
_ITEM_MAX = 1024 * 1024
_REALTIME_MAXDELTA = 60 * 60 * 24 * 30
_MC_ERROR = b"ERROR\r\n"
_MC_BAD_FORMAT = b"CLIENT_ERROR bad command line format\r\n"
_MC_BAD_CHUNK = b"CLIENT_ERROR bad data chunk\r\n"
_MC_TOO_LARGE = b"SERVER_ERROR object too large for cache\r\n"
_SLAB_CLASSES = 64


class Item:
    __slots__ = ("atime", "cas", "data", "deadline", "flags")

    def __init__(self, data: bytes, flags: int, cas: int, deadline: int, atime: int) -> None:
        self.data = data
        self.flags = flags
        self.cas = cas
        self.deadline = deadline
        self.atime = atime


class MemcacheStats:
    def __init__(self) -> None:
        self.cmd_get = 0
        self.cmd_set = 0
        self.get_hits = 0
        self.get_misses = 0
        self.bytes_read = 0
        self.bytes_written = 0
        self.total_items = 0
        self.curr_items = 0
        self.next_cas = 0
        self.slab_sets = [0] * _SLAB_CLASSES
        self.slab_hits = [0] * _SLAB_CLASSES


_ITEMS: dict[bytes, Item] = {}
_MC = MemcacheStats()


def _slab_class(size: int) -> int:
    """The slab class of an item of `size` bytes (chunk sizes growing by 1.25)."""
    return min(_SLAB_CLASSES - 1, max(0, (size - 96).bit_length() - 5) * 3)


_SLAB_BY_SIZE = [_slab_class(size) for size in range(16 * 1024)]  # a lookup, as memcached's


def _number(token: bytes) -> int | None:
    """safe_strtoul for the common case: plain decimal digits (anything else: None)."""
    return int(token) if token.isdigit() and len(token) < 10 else None


def _signed(token: bytes) -> int | None:
    """safe_strtol for the common case: decimal digits, maybe after a minus sign."""
    return -n if token[:1] == b"-" and (n := _number(token[1:])) is not None else _number(token)


class MemcacheDuties(asyncio.Protocol):
    """memcached's get, set and mn with what memcached does for each (see the module doc)."""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.pending = b""

    def data_received(self, data: bytes) -> None:
        stats = _MC
        stats.bytes_read += len(data)
        buf = self.pending + data if self.pending else data
        out: list[bytes] = []
        append = out.append
        now_s = _STATS.now_s
        pos = 0
        while (end := buf.find(b"\n", pos)) >= 0:
            line_end = end + 1
            tokens = buf[pos : end - 1 if buf[end - 1] == 13 else end].split()
            verb = _MC_VERBS.get(tokens[0]) if tokens else None
            if verb is None:
                append(_MC_ERROR)
            else:
                line_end = verb(tokens, buf, line_end, append, now_s)
                if line_end < 0:
                    break  # the data block is not all here yet
            pos = line_end
        self.pending = buf[pos:]
        if out:
            payload = b"".join(out)
            stats.bytes_written += len(payload)
            self.transport.write(payload)


McVerb = Callable[[list[bytes], bytes, int, Callable[[bytes], None], int], int]


def _mc_get(
    tokens: list[bytes], buf: bytes, end: int, append: Callable[[bytes], None], now_s: int
) -> int:
    """get <key>*: each live item's VALUE line and data, then END."""
    stats = _MC
    if len(tokens) < 2:
        append(_MC_ERROR)
        return end
    for key in tokens[1:]:
        if len(key) > _KEY_MAX:
            append(_MC_BAD_FORMAT)
            return end
        stats.cmd_get += 1
        item = _ITEMS.get(key)
        if item is not None and item.deadline and item.deadline <= now_s:
            del _ITEMS[key]
            stats.curr_items -= 1
            item = None
        if item is None:
            stats.get_misses += 1
            continue
        stats.get_hits += 1
        value = item.data
        size = len(key) + len(value)
        stats.slab_hits[_SLAB_BY_SIZE[size] if size < 16384 else _slab_class(size)] += 1
        item.atime = now_s  # the LRU bump
        append(b"VALUE %b %d %d\r\n%b\r\n" % (key, item.flags, len(value), value))
    append(b"END\r\n")
    return end


def _mc_set(
    tokens: list[bytes], buf: bytes, end: int, append: Callable[[bytes], None], now_s: int
) -> int:
    """set <key> <flags> <exptime> <bytes> [noreply] and its data block."""
    stats = _MC
    count = len(tokens)
    if count != 5 and count != 6:
        append(_MC_ERROR)
        return end
    noreply = count == 6 and tokens[5] == b"noreply"
    key = tokens[1]
    numbers = tokens[2] + tokens[3] + tokens[4]
    flags: int | None
    exptime: int | None
    size: int | None
    if len(numbers) < 10 and numbers.isdigit():  # three short plain decimals, inline
        flags, exptime, size = int(tokens[2]), int(tokens[3]), int(tokens[4])
    else:
        flags, exptime, size = _number(tokens[2]), _signed(tokens[3]), _signed(tokens[4])
    if len(key) > _KEY_MAX or flags is None or exptime is None or size is None or size < 0:
        append(_MC_BAD_FORMAT)
        return end
    stop = end + size
    if len(buf) < stop + 2:
        return -1
    stats.cmd_set += 1
    if size > _ITEM_MAX:
        append(_MC_TOO_LARGE)
        return stop + 2
    if buf[stop : stop + 2] != b"\r\n":
        append(_MC_BAD_CHUNK)
        return stop + 2
    deadline = 0
    if exptime < 0:
        deadline = -1  # expired at once
    elif exptime:  # realtime(): an absolute unix time past 30 days, else relative
        deadline = exptime if exptime > _REALTIME_MAXDELTA else now_s + exptime
    stats.next_cas += 1
    if _ITEMS.get(key) is None:
        stats.curr_items += 1
    _ITEMS[key] = Item(buf[end:stop], flags, stats.next_cas, deadline, now_s)
    stats.total_items += 1
    total = len(key) + size
    stats.slab_sets[_SLAB_BY_SIZE[total] if total < 16384 else _slab_class(total)] += 1
    if not noreply:
        append(b"STORED\r\n")
    return stop + 2


def _mc_mn(
    tokens: list[bytes], buf: bytes, end: int, append: Callable[[bytes], None], now_s: int
) -> int:
    append(b"MN\r\n")
    return end


_MC_VERBS: dict[bytes, McVerb] = {b"get": _mc_get, b"set": _mc_set, b"mn": _mc_mn}

PROTOCOLS: dict[int, type[TableProtocol]] = {
    1: TableProtocol,
    2: TableProtocol,
    3: CountingProtocol,
    4: CountingProtocol,
    5: ClientProtocol,
    6: FramingProtocol,
}


async def _serve(port: int, rung: int, memcache_port: int | None) -> None:
    table = command_table(rung)
    protocol = PROTOCOLS[rung]
    loop = asyncio.get_running_loop()
    await loop.create_server(lambda: protocol(table), "127.0.0.1", port)
    if memcache_port is not None:
        await loop.create_server(MemcacheDuties, "127.0.0.1", memcache_port)
    await _tick()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rung", type=int, choices=sorted(RUNGS), required=True)
    parser.add_argument("--memcache-port", type=int)
    args = parser.parse_args()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_serve(args.port, args.rung, args.memcache_port))


if __name__ == "__main__":
    main()
