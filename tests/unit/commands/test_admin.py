"""CLIENT, INFO, OBJECT, SLOWLOG, LATENCY, MONITOR, DEBUG, SHUTDOWN, TIME in-process."""

from __future__ import annotations

import re
import time

from protocol.resp import OK, RespError, SimpleString, Verbatim
from server.context import POSTPONED
from tests.support import Runner


def _fields(line: bytes) -> dict[str, str]:
    return dict(part.split("=", 1) for part in line.decode().split())


# --- CLIENT ---


def test_client_list_line_has_redis_fields_in_order(run: Runner) -> None:
    run("CLIENT", "SETNAME", "me")
    line = run("CLIENT", "LIST")
    assert line.endswith(b"\n")
    names = [p.split("=", 1)[0] for p in line.decode().split()]
    expected = (
        "id addr laddr fd name age idle flags db sub psub ssub multi qbuf qbuf-free argv-mem "
        "multi-mem rbs rbp obl oll omem tot-mem events cmd user redir resp"
    )
    assert names == expected.split()
    fields = _fields(line)
    assert fields["name"] == "me"
    assert fields["cmd"] == "client|list"
    assert fields["addr"] == "127.0.0.1:50000"


def test_client_list_by_id_shows_another_clients_state(run: Runner) -> None:
    run("SELECT", "3")
    run.ctx.multi = []  # as MULTI leaves it (the transactions family owns MULTI)
    other = run.client()
    line = run("CLIENT", "LIST", "ID", str(run.ctx.id), "999", ctx=other)
    fields = _fields(line)
    assert fields["flags"] == "x"
    assert fields["multi"] == "0"
    assert fields["db"] == "3"
    assert fields["cmd"] == "select"


def test_client_info_is_verbatim_in_resp3(run: Runner) -> None:
    run.ctx.resp3 = True
    reply = run("CLIENT", "INFO")
    assert isinstance(reply, Verbatim)
    assert _fields(reply.text)["resp"] == "3"


def test_client_list_type_filters(run: Runner) -> None:
    other = run.client()
    other.subscribed = 1
    assert run("CLIENT", "LIST", "TYPE", "pubsub").count(b"\n") == 1
    assert run("CLIENT", "LIST", "TYPE", "normal").count(b"\n") == 1
    assert run("CLIENT", "LIST", "TYPE", "replica") == b""
    assert run("CLIENT", "LIST", "TYPE", "x") == RespError("ERR Unknown client type 'x'")


def test_client_kill_filters_and_counts(run: Runner) -> None:
    killed: list[int] = []
    victim = run.client()
    victim.kill = lambda: killed.append(victim.id)
    assert run("CLIENT", "KILL", "ID", str(victim.id)) == 1
    assert killed == [victim.id]
    assert run("CLIENT", "KILL", "ID", str(run.ctx.id)) == 0  # SKIPME yes by default
    assert run("CLIENT", "KILL", "ID", str(run.ctx.id), "SKIPME", "no") == 1
    assert run.ctx.close_after_reply


def test_client_kill_old_form_and_errors(run: Runner) -> None:
    assert run("CLIENT", "KILL", "1.2.3.4:5") == RespError("ERR No such client")
    assert run("CLIENT", "KILL", "ID", "0") == RespError("ERR client-id should be greater than 0")
    assert run("CLIENT", "KILL", "USER", "bob") == RespError("ERR No such user 'bob'")
    assert run("CLIENT", "KILL", "SKIPME", "x") == RespError("ERR syntax error")
    victim = run.client()
    victim.kill = lambda: None
    assert run("CLIENT", "KILL", victim.addr) is OK


def test_client_kill_maxage(run: Runner) -> None:
    old = run.client()
    old.kill = lambda: None
    old.created_s = time.time() - 100
    young = run.client()
    young.kill = lambda: None
    assert run("CLIENT", "KILL", "MAXAGE", "50") == 1


def test_client_no_evict_and_no_touch_flags(run: Runner) -> None:
    assert run("CLIENT", "NO-EVICT", "on") is OK
    assert run("CLIENT", "NO-TOUCH", "on") is OK
    assert _fields(run("CLIENT", "INFO"))["flags"] == "eT"
    assert run("CLIENT", "NO-TOUCH", "maybe") == RespError("ERR syntax error")


def test_client_no_touch_leaves_idle_time_alone(run: Runner) -> None:
    run("SET", "k", "v")
    assert run("OBJECT", "IDLETIME", "k") == 0
    run.clock.advance(5000)
    run("CLIENT", "NO-TOUCH", "on")
    run("GET", "k")
    assert run("OBJECT", "IDLETIME", "k") == 5
    run("CLIENT", "NO-TOUCH", "off")
    run("GET", "k")
    assert run("OBJECT", "IDLETIME", "k") == 0


def test_client_pause_write_postpones_writes_only(run: Runner) -> None:
    assert run("CLIENT", "PAUSE", "100000", "WRITE") is OK
    assert run("SET", "k", "v") is POSTPONED
    assert run("GET", "k") is None
    assert run("CLIENT", "UNPAUSE") is OK
    assert run("SET", "k", "v") is OK


def test_client_pause_all_postpones_everything(run: Runner) -> None:
    run("CLIENT", "PAUSE", "100000")
    assert run("GET", "k") is POSTPONED
    assert run("PING") is POSTPONED
    run.app.unpause()
    assert run("GET", "k") is None


def test_client_pause_ends_by_itself(run: Runner) -> None:
    run("CLIENT", "PAUSE", "0", "WRITE")
    assert run("SET", "k", "v") is OK
    assert run.app.pause_end is None


def test_client_pause_resumes_held_clients_in_order(run: Runner) -> None:
    order: list[str] = []
    run("CLIENT", "PAUSE", "100000", "ALL")
    a, b = run.client(), run.client()
    run.app.hold(a, lambda: order.append("a"))
    run.app.hold(b, lambda: order.append("b"))
    run.app.unpause()
    assert order == ["a", "b"]
    assert a.held is None or a.held is not None  # the connection clears it when it resumes


def test_client_pause_errors(run: Runner) -> None:
    assert run("CLIENT", "PAUSE", "x") == RespError("ERR timeout is not an integer or out of range")
    assert run("CLIENT", "PAUSE", "-1") == RespError("ERR timeout is negative")
    assert run("CLIENT", "PAUSE", "1", "READ") == RespError(
        "ERR CLIENT PAUSE mode must be WRITE or ALL"
    )


def test_client_help_lists_subcommands(run: Runner) -> None:
    reply = run("CLIENT", "HELP")
    assert reply[0] == SimpleString(
        b"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    )
    assert reply[-2:] == [SimpleString(b"HELP"), SimpleString(b"    Prints this help.")]


# --- INFO ---


def test_info_default_sections_in_redis_order(run: Runner) -> None:
    text = run("INFO").decode()
    titles = [line for line in text.split("\r\n") if line.startswith("# ")]
    assert titles == [
        "# Server",
        "# Clients",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# Replication",
        "# CPU",
        "# Modules",
        "# Errorstats",
        "# Cluster",
        "# Keyspace",
    ]
    assert "\r\n\r\n# Clients\r\n" in text
    assert text.endswith("\r\n")


def test_info_everything_adds_commandstats(run: Runner) -> None:
    run("SET", "k", "v")
    run("CONFIG", "GET", "hz")
    run("GET")
    text = run("INFO", "everything").decode()
    assert "# Commandstats\r\n" in text
    assert "# Latencystats\r\n" in text
    # The command table (and so its counters) is shared by every App of this test process.
    assert re.search(r"\r\ncmdstat_set:calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,", text)
    assert re.search(r"\r\ncmdstat_config\|get:calls=\d+,", text)
    assert re.search(r"\r\ncmdstat_get:calls=\d+,.*rejected_calls=[1-9]", text)
    assert "errorstat_ERR:count=1\r\n" in text


def test_info_sections_are_case_insensitive_and_unknown_is_empty(run: Runner) -> None:
    assert run("INFO", "KEYSPACE") == b"# Keyspace\r\n"
    assert run("INFO", "nosuch") == b""
    run("SET", "a", "1")
    run("SET", "b", "2", "PX", "5000")
    assert run("INFO", "keyspace") == b"# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=5000\r\n"


def test_info_stats_count_hits_misses_and_expired(run: Runner) -> None:
    run("SET", "a", "1", "PX", "10")
    run("GET", "a")
    run("GET", "b")
    run.clock.advance(20)
    run("GET", "a")
    text = run("INFO", "stats").decode()
    assert "keyspace_hits:1\r\n" in text
    assert "keyspace_misses:2\r\n" in text
    assert "expired_keys:1\r\n" in text


def test_info_server_fields(run: Runner) -> None:
    text = run("INFO", "server").decode()
    assert "redis_version:7.0.15\r\n" in text
    assert f"run_id:{run.app.run_id}\r\n" in text
    assert "redis_mode:standalone\r\n" in text


def test_info_in_resp3_is_verbatim(run: Runner) -> None:
    run.ctx.resp3 = True
    reply = run("INFO", "cpu")
    assert isinstance(reply, Verbatim)
    assert reply.text.startswith(b"# CPU\r\nused_cpu_sys:")


# --- OBJECT ---


def test_object_encoding_and_refcount(run: Runner) -> None:
    run("SET", "n", "100")
    run("SET", "s", "hello")
    run("SET", "big", "x" * 45)
    assert run("OBJECT", "ENCODING", "n") == b"int"
    assert run("OBJECT", "ENCODING", "s") == b"embstr"
    assert run("OBJECT", "ENCODING", "big") == b"raw"
    assert run("OBJECT", "ENCODING", "none") is None
    assert run("OBJECT", "REFCOUNT", "n") == 2147483647
    assert run("OBJECT", "REFCOUNT", "s") == 1


def test_object_idletime_tracks_from_first_use(run: Runner) -> None:
    run("SET", "k", "v")
    assert run("OBJECT", "IDLETIME", "k") == 0
    run.clock.advance(3000)
    assert run("OBJECT", "IDLETIME", "k") == 3  # OBJECT itself does not touch
    run("GET", "k")
    assert run("OBJECT", "IDLETIME", "k") == 0


def test_object_freq_needs_an_lfu_policy(run: Runner) -> None:
    run("SET", "k", "v")
    assert run("OBJECT", "FREQ", "k") == RespError(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please "
        "note that when switching between policies at runtime LRU and LFU data will take some "
        "time to adjust."
    )
    run("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    run("SET", "f", "v")
    assert run("OBJECT", "FREQ", "f") == 5
    run("GET", "f")
    assert run("OBJECT", "FREQ", "f") == 6
    assert run("OBJECT", "IDLETIME", "f") == RespError(
        "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
        "switching between policies at runtime LRU and LFU data will take some time to adjust."
    )


def test_lfu_counter_decays_by_minutes(run: Runner) -> None:
    run("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu", "lfu-decay-time", "1")
    run("SET", "f", "v")
    run.clock.advance(3 * 60_000)
    assert run("OBJECT", "FREQ", "f") == 2


# --- SLOWLOG, LATENCY, MONITOR ---


def test_slowlog_records_and_truncates_like_redis(run: Runner) -> None:
    run("CONFIG", "SET", "slowlog-log-slower-than", "0")
    run("CLIENT", "SETNAME", "cli")
    run("SET", "k", "x" * 130)
    run("SLOWLOG", "GET", "1")
    entries = run("SLOWLOG", "GET", "-1")
    set_entry = next(e for e in entries if e[3][0] == b"SET")
    _entry_id, _when, _usec, argv, addr, name = set_entry
    assert argv == [b"SET", b"k", b"x" * 128 + b"... (2 more bytes)"]
    assert addr == b"127.0.0.1:50000"
    assert name == b"cli"
    before = len(run.app.slowlog)
    assert run("SLOWLOG", "LEN") == before
    assert run("SLOWLOG", "RESET") is OK
    # RESET itself is logged once it has run, as in Redis.
    assert run("SLOWLOG", "LEN") == 1
    assert [e[3] for e in run("SLOWLOG", "GET")] == [[b"SLOWLOG", b"LEN"], [b"SLOWLOG", b"RESET"]]


def test_slowlog_redacts_sensitive_config_set(run: Runner) -> None:
    run("CONFIG", "SET", "slowlog-log-slower-than", "0")
    run("CONFIG", "SET", "masterauth", "secret")
    entry = run("SLOWLOG", "GET", "1")[0]
    assert entry[3] == [b"CONFIG", b"SET", b"masterauth", b"(redacted)"]


def test_slowlog_many_arguments(run: Runner) -> None:
    run("CONFIG", "SET", "slowlog-log-slower-than", "0")
    run("DEL", *[f"k{i}" for i in range(40)])
    entry = run("SLOWLOG", "GET", "1")[0]
    assert len(entry[3]) == 32
    assert entry[3][-1] == b"... (10 more arguments)"


def test_latency_monitor_records_slow_commands(run: Runner) -> None:
    run("CONFIG", "SET", "latency-monitor-threshold", "1")
    run("DEBUG", "SLEEP", "0.01")
    latest = run("LATENCY", "LATEST")
    assert [e[0] for e in latest] == [b"command"]
    assert latest[0][2] >= 10
    history = run("LATENCY", "HISTORY", "command")
    assert len(history) == 1
    assert run("LATENCY", "RESET", "command") == 1
    assert run("LATENCY", "LATEST") == []


def test_monitor_lines_have_redis_format(run: Runner) -> None:
    frames: list[object] = []
    watcher = run.client()
    watcher.push = frames.append
    assert run("MONITOR", ctx=watcher) is OK
    run("SET", "k", 'a"b\n\x01')
    run("CONFIG", "GET", "hz")  # admin commands are not shown
    run("SELECT", "2")
    assert len(frames) == 2
    line = bytes(frames[0])  # type: ignore[call-overload]
    stamp, rest = line.split(b" ", 1)
    seconds, micros = stamp.split(b".")
    assert len(micros) == 6
    assert seconds.isdigit()
    assert rest == b'[0 127.0.0.1:50000] "SET" "k" "a\\"b\\n\\x01"'
    assert bytes(frames[1]).endswith(b'[2 127.0.0.1:50000] "SELECT" "2"')  # type: ignore[call-overload]


# --- DEBUG, SHUTDOWN, TIME, MEMORY ---


def test_debug_sleep_blocks(run: Runner) -> None:
    started = time.monotonic()
    assert run("DEBUG", "SLEEP", "0.05") is OK
    assert time.monotonic() - started >= 0.05


def test_debug_set_active_expire(run: Runner) -> None:
    assert run("DEBUG", "SET-ACTIVE-EXPIRE", "0") is OK
    assert run.app.active_expire_enabled is False
    assert run("DEBUG", "SET-ACTIVE-EXPIRE", "1") is OK
    assert run.app.active_expire_enabled is True


def test_shutdown_requests_exit_and_sends_no_reply(run: Runner) -> None:
    assert run("SHUTDOWN", "NOSAVE", "NOW") is not OK
    assert run.ctx.close_after_reply
    assert run.app.shutdown_flags == frozenset({"nosave", "now"})
    assert run("SHUTDOWN", "SAVE", "NOSAVE") == RespError("ERR syntax error")
    assert run("SHUTDOWN", "ABORT") == RespError("ERR No shutdown in progress.")


def test_shutdown_refused_when_a_prepare_step_fails(run: Runner) -> None:
    run.app.shutdown_prepare.append(lambda flags: False)
    assert run("SHUTDOWN") == RespError("ERR Errors trying to SHUTDOWN. Check logs.")
    assert not run.ctx.close_after_reply
    assert run("SHUTDOWN", "FORCE") is not OK
    assert run.ctx.close_after_reply


def test_time_is_seconds_and_microseconds(run: Runner) -> None:
    seconds, micros = run("TIME")
    assert abs(int(seconds) - time.time()) < 5
    assert 0 <= int(micros) < 1_000_000


def test_memory_usage_counts_key_and_value(run: Runner) -> None:
    run("SET", "k", "x" * 1000)
    usage = run("MEMORY", "USAGE", "k")
    assert 1000 < usage < 1200
    assert run("MEMORY", "USAGE", "nokey") is None
    assert run("MEMORY", "USAGE", "k", "SAMPLES", "0") == usage
    assert run("MEMORY", "USAGE", "k", "SAMPLES", "-1") == RespError("ERR syntax error")


def test_memory_stats_is_a_map_in_resp3(run: Runner) -> None:
    run("SET", "k", "v")
    run.ctx.resp3 = True
    stats = run("MEMORY", "STATS")
    assert stats[b"keys.count"] == 1
    assert b"db.0" in stats
    run.ctx.resp3 = False
    flat = run("MEMORY", "STATS")
    assert flat[0] == b"peak.allocated"
