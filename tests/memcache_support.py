"""memcached test helpers: an in-process runner, real memcached processes, a raw client."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from protocol.memcache import MemcacheParser
from server.memcache import execute
from server.memcache_state import MemcacheContext, MemcacheService, service_for
from tests.support import Runner, free_port, wait_until

# --- in-process ---


class MemcacheRunner:
    """Runs raw memcached request bytes against an in-process App; returns the reply bytes.

    It shares the App (and its FakeClock and captured write stream) with a RESP `Runner`, so a
    test can mix `mc(b"set ...")` with `run("GET", ...)`.
    """

    def __init__(self, run: Runner | None = None) -> None:
        self.run = run if run is not None else Runner()
        self.app = self.run.app
        self.clock = self.run.clock
        self.ctx = MemcacheContext(self.app, "127.0.0.1:50000", "127.0.0.1:11211", fd=7)
        self.parser = MemcacheParser(
            max_item_bytes=self.app.config["memcache-max-item-size"],
            require_auth=not self.ctx.authenticated,
        )
        self.closed = False

    @property
    def service(self) -> MemcacheService:
        return service_for(self.app)

    def client(self) -> MemcacheRunner:
        """Another connection to the same App."""
        return MemcacheRunner(self.run)

    def __call__(self, data: bytes | str) -> bytes:
        if isinstance(data, str):
            data = data.encode()
        ctx = self.ctx
        ctx.out = []
        ctx.mark = 0
        ctx.auth_reply_at = -1
        if ctx.held:
            ctx.held.clear()
        ctx.access_s = self.clock.now_ms() // 1000
        self.parser.feed(data)
        while (request := self.parser.next_request()) is not None:
            if not execute(ctx, request):
                self.closed = True
                break
            if ctx.authenticated and self.parser.require_auth:
                self.parser.authenticated()
        return b"".join(ctx.out)


# --- real memcached ---


class RealMemcached:
    """A real memcached 1.6 child process on a free loopback port, stopped by PID."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int) -> None:
        self.proc = proc
        self.port = port

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def start_real_memcached(*args: str) -> RealMemcached:
    """`memcached -p <free port> -U 0 -l 127.0.0.1 -t 1` (`-u root` when running as root)."""
    binary = shutil.which("memcached")
    if binary is None:
        raise RuntimeError("memcached is not installed; .ci/run installs it")
    for _ in range(5):
        port = free_port()
        cmd = [binary, "-p", str(port), "-U", "0", "-l", "127.0.0.1", "-t", "1", *args]
        if os.geteuid() == 0:
            cmd += ["-u", "root"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda p=proc, n=port: p.poll() is not None or _accepts(n), timeout_s=10)  # type: ignore[misc]
        except AssertionError:
            proc.kill()
            proc.wait()
            continue
        if proc.poll() is None:
            return RealMemcached(proc, port)
    raise RuntimeError("could not start memcached")


# --- a raw client ---


class RawMemcache:
    """A socket that sends raw bytes and reads until a terminator or until the peer closes."""

    def __init__(self, port: int, timeout_s: float = 10.0) -> None:
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.pending = b""

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_until(self, terminator: bytes) -> bytes:
        """Bytes up to and including the next `terminator` (the rest stays buffered)."""
        data = self.pending
        while terminator not in data:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                self.pending = b""
                return data + b"<closed>"
            data += chunk
        end = data.index(terminator) + len(terminator)
        self.pending = data[end:]
        return data[:end]

    def read_until_closed(self) -> bytes:
        """Everything until the server closes; a reset (unread input at close) is a close."""
        data = self.pending
        self.pending = b""
        try:
            while chunk := self.sock.recv(1 << 20):
                data += chunk
        except ConnectionResetError:
            pass
        return data + b"<closed>"


# --- differential scripts ---

MN = b"mn\r\n"


@dataclass
class Step:
    """Bytes to send in one write, then `mn`, read up to its MN; or, when `closes`, read
    until the server closes; or, with `until`, send the bytes alone and read up to it."""

    data: bytes
    closes: bool = False
    until: bytes = b""


@dataclass
class Session:
    """One connection to one server, with its CAS tokens numbered by first appearance."""

    port: int
    cas: dict[bytes, int] = field(default_factory=dict)
    cas_values: list[bytes] = field(default_factory=list)
    conn: RawMemcache | None = None

    def connect(self) -> RawMemcache:
        if self.conn is None:
            self.conn = RawMemcache(self.port)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def substitute(self, data: bytes) -> bytes:
        """Replace `{c1}`, `{c2}`... with this server's actual CAS tokens."""
        return re.sub(rb"\{c(\d+)\}", lambda m: self.cas_values[int(m.group(1)) - 1], data)

    def run(self, step: Step) -> bytes:
        conn = self.connect()
        if step.closes:
            conn.send(self.substitute(step.data))
            reply = conn.read_until_closed()
            self.close()
            return reply
        if step.until:
            conn.send(self.substitute(step.data))
            return conn.read_until(step.until)
        data = self.substitute(step.data) + MN
        conn.send(data)
        # mn makes memcached flush at once, so the replies may come in several writes: read
        # up to the MN of the last mn sent.
        reply = b""
        for _ in range(data.count(MN)):
            reply += conn.read_until(b"MN\r\n")
        return reply


_CAS_PATTERNS: Final = (
    re.compile(rb"(VALUE \S+ \d+ \d+ )(\d+)(\r\n)"),
    re.compile(rb"( c)(\d+)([ \r])"),
    re.compile(rb"( cas=)(\d+)( )"),
)
_TIME_PATTERNS: Final = (
    re.compile(rb"( t)(\d+)([ \r])"),
    re.compile(rb"( l)(\d+)([ \r])"),
    re.compile(rb"( la=)(\d+)( )"),
    re.compile(rb"( exp=)(-?\d+)( )"),
)


def normalize_cas(reply: bytes, session: Session) -> bytes:
    """CAS tokens become <c1>, <c2>... in the order each server first showed them."""

    def name(match: re.Match[bytes]) -> bytes:
        value = match.group(2)
        index = session.cas.get(value)
        if index is None:
            session.cas_values.append(value)
            index = session.cas[value] = len(session.cas_values)
        return match.group(1) + b"<c%d>" % index + match.group(3)

    for pattern in _CAS_PATTERNS:
        reply = pattern.sub(name, reply)
    return reply


def time_fields(reply: bytes) -> list[int]:
    return [int(m.group(2)) for p in _TIME_PATTERNS for m in p.finditer(reply)]


def blank_time_fields(reply: bytes) -> bytes:
    for pattern in _TIME_PATTERNS:
        reply = pattern.sub(lambda m: m.group(1) + b"<time>" + m.group(3), reply)
    return reply


def normalize_version(reply: bytes) -> bytes:
    return re.sub(rb"VERSION \S+\r\n", b"VERSION <version>\r\n", reply)


StatFilter = Callable[[bytes, bytes], bytes]


def normalize_stats(reply: bytes, exact: Iterable[bytes] = ()) -> bytes:
    """`STAT name value` lines keep their names and order; values are blanked except `exact`."""
    keep = set(exact)

    def blank(match: re.Match[bytes]) -> bytes:
        name = match.group(1)
        if name in keep:
            return match.group(0)
        return b"STAT " + name + b" <value>\r\n"

    return re.sub(rb"STAT (\S+) ([^\r]*)\r\n", blank, reply)
