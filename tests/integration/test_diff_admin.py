"""Differential: CONFIG, CLIENT, OBJECT, INFO, SLOWLOG, LATENCY, MEMORY against real Redis."""

from __future__ import annotations

import hiredis
import pytest

from tests.differential import Command, Differential, shape, unordered

pytestmark = pytest.mark.integration

# Values that legitimately differ between the two processes (how each was started).
_STARTUP_DIFFERENT = {"port", "dir", "bind", "save", "logfile", "enable-debug-command"}
# Duocache's own directives, absent from Redis.
# Duocache's own directives (memcached listener, event loop, scheduled backups).
_OURS = {
    "memcache-port",
    "memcache-max-item-size",
    "memcache-enable-shutdown",
    "cluster-mode",
    "loop",
    "backup-interval-seconds",
    "backup-retention",
    "backup-dir",
}


def _parse(raw: bytes) -> object:
    reader = hiredis.Reader()
    reader.feed(raw)
    return reader.gets()


def _config_names(diff: Differential) -> tuple[set[str], set[str]]:
    ours, theirs = diff.send("CONFIG", "GET", "*")
    names = []
    for raw in (ours, theirs):
        flat = _parse(raw)
        assert isinstance(flat, list)
        # TLS directives exist only in a Redis built with TLS; Duocache has none.
        names.append(
            {n for i in range(0, len(flat), 2) if not (n := flat[i].decode()).startswith("tls-")}
        )
    return names[0], names[1]


def test_config_get_star_lists_every_redis_directive(diff: Differential) -> None:
    ours, theirs = _config_names(diff)
    assert theirs - ours == set()
    assert ours - theirs == _OURS


def test_config_get_each_directive_matches(diff: Differential) -> None:
    _, theirs = _config_names(diff)
    diff.assert_same([("CONFIG", "GET", name) for name in sorted(theirs - _STARTUP_DIFFERENT)])


def test_config_get_patterns_and_aliases(diff: Differential, diff3: Differential) -> None:
    script: list[Command] = [
        unordered("CONFIG", "GET", "maxmemory*"),
        unordered("CONFIG", "GET", "maxmemory", "timeout", "hz"),
        unordered("CONFIG", "GET", "slave*"),
        unordered("CONFIG", "GET", "*ziplist*"),
        unordered("CONFIG", "GET", "maxmemory", "maxmemory"),
        unordered("CONFIG", "GET", "MAXMEMORY"),
        ("CONFIG", "GET", "lua-time-limit"),
        ("CONFIG", "GET", "nosuch"),
        ("CONFIG", "GET", "watchdog-period"),
        unordered("CONFIG", "GET", "watchdog*"),
        unordered("CONFIG", "GET", "h?"),
        unordered("CONFIG", "GET", "[mh]z"),
        ("CONFIG", "GET"),
    ]
    diff.assert_same(script)
    diff3.assert_same(script)


def test_config_set_errors_and_round_trips(diff: Differential) -> None:
    diff.assert_same(
        [
            ("CONFIG", "SET", "maxmemory", "abc"),
            ("CONFIG", "SET", "maxmemory", "-1"),
            ("CONFIG", "SET", "maxclients", "0"),
            ("CONFIG", "SET", "hz", "abc"),
            ("CONFIG", "SET", "hz", "99999999999"),
            ("CONFIG", "SET", "foo", "bar"),
            ("CONFIG", "SET", "maxmemory", "1", "maxmemory", "2"),
            ("CONFIG", "SET", "maxmemory", "5", "foo", "bar"),
            ("CONFIG", "SET", "databases", "3"),
            ("CONFIG", "SET", "dir", "/tmp"),
            ("CONFIG", "SET", "dbfilename", "x.rdb"),
            ("CONFIG", "SET", "save", "1 2 3"),
            ("CONFIG", "SET", "save", "0 1"),
            ("CONFIG", "SET", "maxmemory-policy", "foo"),
            ("CONFIG", "SET", "appendonly", "maybe"),
            ("CONFIG", "SET", "notify-keyspace-events", "KEz!"),
            ("CONFIG", "SET", "client-output-buffer-limit", "normal 1 2"),
            ("CONFIG", "SET", "client-output-buffer-limit", "master 1 2 3"),
            ("CONFIG", "SET", "client-output-buffer-limit", "normal x 2 3"),
            ("CONFIG", "SET", "maxmemory-clients", "101%"),
            ("CONFIG", "SET", "unixsocketperm", "700"),
            ("CONFIG", "SET", "maxmemory"),
            ("CONFIG", "SET", "maxmemory", "1", "hz"),
            ("CONFIG", "SET", "maxmemory", "1gb", "hz", "99999999999"),
            ("CONFIG", "GET", "maxmemory"),
            ("CONFIG", "SET", "notify-keyspace-events", "KEA"),
            ("CONFIG", "GET", "notify-keyspace-events"),
            ("CONFIG", "SET", "notify-keyspace-events", "Kgx$"),
            ("CONFIG", "GET", "notify-keyspace-events"),
            ("CONFIG", "SET", "notify-keyspace-events", "AnE"),
            ("CONFIG", "GET", "notify-keyspace-events"),
            ("CONFIG", "SET", "notify-keyspace-events", ""),
            ("CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 2mb 3 replica 1gb 0 0"),
            ("CONFIG", "GET", "client-output-buffer-limit"),
            (
                "CONFIG",
                "SET",
                "client-output-buffer-limit",
                "normal 0 0 0 slave 268435456 67108864 60",
            ),
            ("CONFIG", "SET", "maxmemory-clients", "10%"),
            ("CONFIG", "GET", "maxmemory-clients"),
            ("CONFIG", "SET", "maxmemory-clients", "0"),
            ("CONFIG", "SET", "lua-time-limit", "100"),
            ("CONFIG", "GET", "busy-reply-threshold"),
            ("CONFIG", "SET", "busy-reply-threshold", "5000"),
            ("CONFIG", "SET", "hz", "0"),
            ("CONFIG", "GET", "hz"),
            ("CONFIG", "SET", "hz", "10"),
            ("CONFIG", "SET", "maxmemory", "1gb", "maxmemory-policy", "ALLKEYS-LRU"),
            unordered("CONFIG", "GET", "maxmemory", "maxmemory-policy"),
            ("CONFIG", "SET", "maxmemory", "0", "maxmemory-policy", "noeviction"),
            ("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99.99 100"),
            ("CONFIG", "GET", "latency-tracking-info-percentiles"),
            ("CONFIG", "SET", "latency-tracking-info-percentiles", "50 101"),
            ("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9"),
            ("CONFIG", "SET", "oom-score-adj-values", "0 200"),
            ("CONFIG", "SET", "replicaof", "127.0.0.1 1"),
            ("CONFIG", "RESETSTAT", "x"),
            ("CONFIG", "REWRITE"),
            ("CONFIG", "HELP"),
            ("CONFIG", "NOSUCH"),
        ]
    )


def test_client_subcommands(diff: Differential, diff3: Differential) -> None:
    script = [
        ("CLIENT", "PAUSE", "x"),
        ("CLIENT", "PAUSE", "-1"),
        ("CLIENT", "PAUSE", "10", "foo"),
        ("CLIENT", "PAUSE", "10", "WRITE", "x"),
        ("CLIENT", "SETNAME", "a", "b"),
        ("CLIENT", "REPLY", "on", "x"),
        ("CLIENT", "UNPAUSE"),
        ("CLIENT", "UNPAUSE", "x"),
        ("CLIENT", "KILL", "1.2.3.4:5"),
        ("CLIENT", "KILL", "ID", "0"),
        ("CLIENT", "KILL", "ID", "x"),
        ("CLIENT", "KILL", "ID", "999999"),
        ("CLIENT", "KILL", "TYPE", "foo"),
        ("CLIENT", "KILL", "TYPE", "master"),
        ("CLIENT", "KILL", "TYPE", "replica", "SKIPME", "no"),
        ("CLIENT", "KILL", "USER", "nobody"),
        ("CLIENT", "KILL", "USER", "default", "ID", "999999"),
        ("CLIENT", "KILL", "foo", "bar"),
        ("CLIENT", "KILL", "addr"),
        ("CLIENT", "KILL", "skipme", "maybe"),
        ("CLIENT", "KILL", "ID"),
        ("CLIENT", "KILL", "ADDR", "1.2.3.4:5", "LADDR", "1.2.3.4:6"),
        ("CLIENT", "KILL"),
        ("CLIENT", "LIST", "TYPE", "foo"),
        ("CLIENT", "LIST", "ID", "x"),
        ("CLIENT", "LIST", "ID", "999999"),
        ("CLIENT", "LIST", "foo"),
        ("CLIENT", "LIST", "TYPE", "master"),
        ("CLIENT", "LIST", "TYPE", "pubsub"),
        ("CLIENT", "NO-EVICT", "maybe"),
        ("CLIENT", "NO-EVICT", "on"),
        ("CLIENT", "NO-EVICT", "OFF"),
        ("CLIENT", "NO-EVICT"),
        ("CLIENT", "INFO", "x"),
        ("CLIENT", "HELP"),
        ("CLIENT", "HELP", "x"),
        ("CLIENT", "NOSUCH"),
        ("CLIENT",),
    ]
    diff.assert_same(script)
    diff3.assert_same(script)


def _fields(line: bytes) -> list[str]:
    return [part.split("=", 1)[0] for part in line.decode().split()]


def test_client_list_and_info_have_redis_fields_in_order(diff: Differential) -> None:
    for command in (("CLIENT", "INFO"), ("CLIENT", "LIST", "ID", "1")):
        ours, theirs = diff.send(*command)
        diff.send("CLIENT", "ID")
    ours, theirs = diff.send("CLIENT", "INFO")
    ours_line = _parse(ours)
    theirs_line = _parse(theirs)
    assert isinstance(ours_line, bytes)
    assert isinstance(theirs_line, bytes)
    assert _fields(ours_line) == _fields(theirs_line)
    assert ours_line.endswith(b"\n")
    ours_fields = dict(p.split("=", 1) for p in ours_line.decode().split())
    assert ours_fields["cmd"] == "client|info"
    assert ours_fields["flags"] == "N"
    assert ours_fields["resp"] == "2"


def test_object_subcommands(diff: Differential) -> None:
    diff.assert_same(
        [
            ("SET", "str", "hello"),
            ("SET", "num", "123"),
            ("SET", "big", "12345678901"),
            ("SET", "long", "x" * 50),
            ("OBJECT", "ENCODING", "str"),
            ("OBJECT", "ENCODING", "num"),
            ("OBJECT", "ENCODING", "long"),
            ("OBJECT", "ENCODING", "nokey"),
            ("OBJECT", "REFCOUNT", "str"),
            ("OBJECT", "REFCOUNT", "num"),
            ("OBJECT", "REFCOUNT", "big"),
            ("OBJECT", "REFCOUNT", "nokey"),
            ("OBJECT", "IDLETIME", "str"),
            ("OBJECT", "IDLETIME", "nokey"),
            ("OBJECT", "FREQ", "str"),
            ("OBJECT", "FREQ", "nokey"),
            ("OBJECT", "ENCODING"),
            ("OBJECT", "ENCODING", "a", "b"),
            ("OBJECT", "FOO", "str"),
            ("OBJECT", "HELP"),
            ("OBJECT",),
            ("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"),
            ("SET", "fresh", "hello"),
            ("OBJECT", "FREQ", "fresh"),
            ("GET", "fresh"),
            ("OBJECT", "FREQ", "fresh"),
            ("OBJECT", "IDLETIME", "fresh"),
            ("CONFIG", "SET", "maxmemory-policy", "noeviction"),
        ]
    )


def test_memory_slowlog_latency_time(diff: Differential, diff3: Differential) -> None:
    script: list[Command] = [
        ("SET", "foo", "bar"),
        ("MEMORY", "USAGE", "nokey"),
        ("MEMORY", "USAGE", "foo", "SAMPLES"),
        ("MEMORY", "USAGE", "foo", "SAMPLES", "-1"),
        ("MEMORY", "USAGE", "foo", "SAMPLES", "x"),
        ("MEMORY", "USAGE", "foo", "bar", "1"),
        shape("MEMORY", "USAGE", "foo"),
        shape("MEMORY", "USAGE", "foo", "SAMPLES", "0"),
        ("MEMORY", "STATS", "x"),
        ("MEMORY", "HELP"),
        ("MEMORY", "NOSUCH"),
        ("SLOWLOG", "GET", "-2"),
        ("SLOWLOG", "GET", "x"),
        ("SLOWLOG", "GET", "1", "2"),
        ("SLOWLOG", "RESET"),
        ("SLOWLOG", "LEN", "x"),
        ("SLOWLOG", "HELP"),
        ("SLOWLOG", "NOSUCH"),
        ("LATENCY", "RESET"),
        ("LATENCY", "LATEST"),
        ("LATENCY", "HISTORY", "command"),
        ("LATENCY", "RESET", "command", "other"),
        ("LATENCY", "DOCTOR", "x"),
        ("LATENCY", "HELP"),
        ("LATENCY", "NOSUCH"),
        shape("TIME"),
        ("TIME", "x"),
        ("MONITOR", "x"),
        ("SHUTDOWN", "foo"),
        ("SHUTDOWN", "ABORT"),
        ("SHUTDOWN", "SAVE", "NOSAVE"),
        ("SHUTDOWN", "NOW", "ABORT"),
        ("DEBUG", "SLEEP", "0"),
        ("DEBUG", "SET-ACTIVE-EXPIRE", "1"),
        ("DEBUG", "PROTOCOL", "map"),
        ("DEBUG", "PROTOCOL", "verbatim"),
        ("DEBUG", "NOSUCHSUB"),
    ]
    diff.assert_same(script)
    diff3.assert_same(script)


def test_slowlog_entries_have_redis_shape(diff: Differential) -> None:
    diff.assert_same(
        [
            ("CONFIG", "SET", "slowlog-log-slower-than", "0"),
            ("SLOWLOG", "RESET"),
            ("SET", "k", "x" * 200),
            ("SLOWLOG", "LEN"),
            ("CONFIG", "SET", "slowlog-log-slower-than", "10000"),
        ]
    )
    ours, theirs = diff.send("SLOWLOG", "GET", "2")
    for raw in (ours, theirs):
        entries = _parse(raw)
        assert isinstance(entries, list)
        set_entry = entries[-1]
        assert len(set_entry) == 6
        assert set_entry[3][0] == b"SET"
        assert set_entry[3][2] == b"x" * 128 + b"... (72 more bytes)"
    diff.send("SLOWLOG", "RESET")


def _info_fields(raw: bytes) -> dict[str, list[str]]:
    text = _parse(raw)
    assert isinstance(text, bytes)
    sections: dict[str, list[str]] = {}
    current = ""
    for line in text.decode().split("\r\n"):
        if line.startswith("# "):
            current = line[2:]
            sections[current] = []
        elif line:
            sections[current].append(line.split(":", 1)[0])
    return sections


@pytest.mark.parametrize(
    "selector",
    [(), ("default",), ("all",), ("everything",), ("server", "keyspace"), ("MEMORY",), ("nosuch",)],
)
def test_info_sections_and_field_names_match(diff: Differential, selector: tuple[str, ...]) -> None:
    diff.send("SET", "k", "v")
    diff.send("SET", "x", "1")
    diff.send("GET", "nokey")
    ours, theirs = diff.send("INFO", *selector)
    assert raw_is_crlf(ours)
    ours_fields = _info_fields(ours)
    theirs_fields = _info_fields(theirs)
    assert list(ours_fields) == list(theirs_fields)
    for section, names in theirs_fields.items():
        if section in ("Commandstats", "Latencystats", "Errorstats"):
            continue  # what was run differs (each server's history)
        assert ours_fields[section] == names, section


def raw_is_crlf(raw: bytes) -> bool:
    body = _parse(raw)
    assert isinstance(body, bytes)
    return b"\n" not in body.replace(b"\r\n", b"")


def test_info_in_resp3_is_a_verbatim_string(diff3: Differential) -> None:
    ours, theirs = diff3.send("INFO", "keyspace")
    assert ours[:1] == theirs[:1] == b"="
    diff3.assert_same(
        [("FLUSHALL",), ("INFO", "keyspace"), ("SET", "a", "1"), ("INFO", "keyspace")]
    )
