"""CONFIG GET / SET / REWRITE / RESETSTAT and the Config table, in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocol.resp import OK, RespError
from server.config import Config, ConfigError, normalize_notify_flags, parse_memory
from server.rewrite import rewrite_config
from tests.support import Runner


def test_parse_memory_follows_memtoull() -> None:
    assert parse_memory("1gb") == 1024**3
    assert parse_memory("1G") == 1000**3
    assert parse_memory("100mb") == 100 * 1024**2
    assert parse_memory("4096") == 4096
    assert parse_memory("-1") is None
    assert parse_memory("1tb") is None
    assert parse_memory("") is None


def test_notify_flags_are_printed_in_redis_order() -> None:
    assert normalize_notify_flags("KEA") == "AKE"
    assert normalize_notify_flags("Exg") == "gxE"
    assert normalize_notify_flags("g$lshzxetdKE") == "AKE"
    assert normalize_notify_flags("!") is None


def test_config_get_several_patterns_is_one_map(run: Runner) -> None:
    reply = run("CONFIG", "GET", "maxmemory", "hz", "maxmemory*")
    assert reply[b"maxmemory"] == b"0"
    assert reply[b"hz"] == b"10"
    assert reply[b"maxmemory-policy"] == b"noeviction"
    assert list(reply).count(b"maxmemory") == 1


def test_config_get_answers_aliases_under_their_own_name(run: Runner) -> None:
    assert run("CONFIG", "GET", "slave-read-only") == {b"slave-read-only": b"yes"}
    pattern = run("CONFIG", "GET", "*read-only")
    assert pattern == {b"slave-read-only": b"yes", b"replica-read-only": b"yes"}


def test_hidden_directives_need_their_exact_name(run: Runner) -> None:
    assert run("CONFIG", "GET", "watchdog*") == {}
    assert run("CONFIG", "GET", "watchdog-period") == {b"watchdog-period": b"0"}


def test_config_set_is_all_or_nothing(run: Runner) -> None:
    reply = run("CONFIG", "SET", "maxmemory", "1gb", "hz", "99999999999")
    assert reply == RespError(
        "ERR CONFIG SET failed (possibly related to argument 'hz') - argument must be "
        "between 0 and 2147483647 inclusive"
    )
    assert run("CONFIG", "GET", "maxmemory") == {b"maxmemory": b"0"}
    assert run("CONFIG", "SET", "maxmemory", "1gb", "hz", "20") is OK
    assert run("CONFIG", "GET", "maxmemory", "hz") == {b"maxmemory": b"1073741824", b"hz": b"20"}


def test_config_set_errors_use_redis_texts(run: Runner) -> None:
    assert run("CONFIG", "SET", "foo", "bar") == RespError(
        "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
    )
    assert run("CONFIG", "SET", "maxmemory", "x") == RespError(
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be "
        "a memory value"
    )
    assert run("CONFIG", "SET", "timeout", "x") == RespError(
        "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't "
        "be parsed into an integer"
    )
    assert run("CONFIG", "SET", "maxmemory", "1", "MAXMEMORY", "2") == RespError(
        "ERR CONFIG SET failed (possibly related to argument 'MAXMEMORY') - duplicate parameter"
    )
    assert run("CONFIG", "SET", "databases", "1") == RespError(
        "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set "
        "immutable config"
    )
    assert run("CONFIG", "SET", "dir", "/") == RespError(
        "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"
    )
    assert run("CONFIG", "SET", "maxmemory", "1", "hz") == RespError("ERR syntax error")


def test_special_values_are_normalized(run: Runner) -> None:
    assert run("CONFIG", "SET", "save", "100 10 200 20") is OK
    assert run("CONFIG", "GET", "save") == {b"save": b"100 10 200 20"}
    assert run("CONFIG", "SET", "save", "") is OK
    assert run("CONFIG", "GET", "save") == {b"save": b""}
    assert run("CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 2mb 3") is OK
    assert run("CONFIG", "GET", "client-output-buffer-limit") == {
        b"client-output-buffer-limit": b"normal 1048576 2097152 3 slave 268435456 67108864 60 "
        b"pubsub 33554432 8388608 60"
    }
    assert run("CONFIG", "SET", "notify-keyspace-events", "KEA") is OK
    assert run("CONFIG", "GET", "notify-keyspace-events") == {b"notify-keyspace-events": b"AKE"}
    assert run("CONFIG", "SET", "maxmemory-clients", "5%") is OK
    assert run("CONFIG", "GET", "maxmemory-clients") == {b"maxmemory-clients": b"5%"}
    assert run("CONFIG", "SET", "hz", "1000") is OK
    assert run("CONFIG", "GET", "hz") == {b"hz": b"500"}


def test_config_changes_reach_the_app(run: Runner) -> None:
    assert run("CONFIG", "SET", "maxmemory", "10mb", "maxmemory-policy", "allkeys-lru") is OK
    assert run.app.memory.maxmemory == 10 * 1024**2
    assert run.app.memory.policy == "allkeys-lru"
    assert run("CONFIG", "SET", "slowlog-log-slower-than", "-1") is OK
    assert run.app.slowlog_threshold_ns > 2**60


def test_config_file_save_lines_accumulate(tmp_path: Path) -> None:
    path = tmp_path / "d.conf"
    path.write_text("save 900 1\nsave 300 10\nmaxmemory 1mb\n")
    config = Config()
    config.load_file(str(path))
    assert config["save"] == "900 1 300 10"
    assert config["maxmemory"] == 1024**2
    with pytest.raises(ConfigError):
        config.set("nosuch", ["1"], startup=True)


def test_config_rewrite_without_file_is_an_error(run: Runner) -> None:
    assert run("CONFIG", "REWRITE") == RespError("ERR The server is running without a config file")


def test_config_rewrite_keeps_comments_and_unknown_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "d.conf"
    path.write_text(
        "# my settings\nmaxmemory 1mb\n\n\nslave-read-only yes\nmaxmemory 2mb\ninclude other.conf\n"
    )
    (tmp_path / "other.conf").write_text("")
    config = Config()
    config.load_file(str(path))
    # A directive this server does not know (say, from a newer Redis) added by hand later.
    path.write_text(path.read_text() + "nosuch-directive 1\n")
    config.config_file = str(path)
    config.set("maxmemory", ["3mb"])
    config.set("hz", ["20"])
    rewrite_config(config, str(path))
    lines = path.read_text().split("\n")
    assert lines[0] == "# my settings"
    assert lines[1] == "maxmemory 3mb"
    assert "replica-read-only yes" in lines
    assert "# ??? nosuch-directive 1" in lines
    assert "include other.conf" in lines
    assert "maxmemory 2mb" not in lines
    assert "# Generated by CONFIG REWRITE" in lines
    assert "hz 20" in lines
    assert f'dir "{tmp_path}"' in lines
    assert "save 3600 1" in lines
    assert "" in lines
    assert "\n\n\n" not in path.read_text()
    # A second rewrite is stable.
    before = path.read_text()
    rewrite_config(config, str(path))
    assert path.read_text() == before


def test_config_resetstat_zeroes_counters(run: Runner) -> None:
    run("SET", "k", "v")
    run("GET", "nokey")
    run("NOSUCH")
    assert run.app.commands_processed > 0
    assert run("CONFIG", "RESETSTAT") is OK
    info = run("INFO", "stats").decode()
    # RESETSTAT itself is counted once it has run, as in Redis.
    assert "total_commands_processed:1\r\n" in info
    assert "keyspace_misses:0\r\n" in info
    assert "total_error_replies:0\r\n" in info
    assert "cmdstat_set" not in run("INFO", "commandstats").decode()
