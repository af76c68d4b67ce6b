"""Persistence commands and the server's persistence state, in-process (no sockets): DUMP and
RESTORE, SAVE / BGSAVE / LASTSAVE / BGREWRITEAOF, DEBUG RELOAD, save points, MISCONF, the
shutdown decision, INFO fields, and the AOF switched on and off with its reply gate."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from persistence.manifest import read_manifest
from persistence.rdb import dump_payload, load_rdb
from protocol.resp import OK, RespError, SimpleString, encode_command
from server.durability import Durability, durability_of, parse_save_points, persistence_info
from server.errors import (
    ERR_BAD_DATA_FORMAT,
    ERR_BUSYKEY,
    ERR_DEBUG_RELOAD_OPTIONS,
    ERR_DUMP_PAYLOAD,
    ERR_INVALID_FREQ,
    ERR_INVALID_IDLETIME,
    ERR_INVALID_TTL,
    ERR_MISCONF,
    ERR_NOT_INTEGER,
    ERR_SYNTAX,
)
from storage.keyspace import Keyspace
from tests.support import Runner


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run with the data directory (the working directory, as the server has) in tmp_path."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _runner(*config: tuple[str, list[str]]) -> Runner:
    return Runner([("save", [""]), *config])


# --- DUMP / RESTORE ---


def test_dump_of_a_missing_key_is_null(run: Runner) -> None:
    assert run("DUMP", "nope") is None


def test_dump_and_restore_round_trip(run: Runner) -> None:
    run("SET", "k", "value")
    payload = run("DUMP", "k")
    assert payload == dump_payload(b"value")
    assert run("RESTORE", "k2", "0", payload) is OK
    assert run("GET", "k2") == b"value"
    assert run("PTTL", "k2") == -1


def test_restore_into_an_existing_key_needs_replace(run: Runner) -> None:
    run("SET", "k", "old")
    payload = dump_payload(b"new")
    assert run("RESTORE", "k", "0", payload) == RespError(ERR_BUSYKEY)
    assert run("RESTORE", "k", "0", payload, "REPLACE") is OK
    assert run("GET", "k") == b"new"


def test_restore_relative_ttl_propagates_absolute_with_absttl(run: Runner) -> None:
    now = run.clock.now_ms()
    run.feed.clear()
    payload = dump_payload(b"v")
    assert run("RESTORE", "k", "5000", payload) is OK
    assert run("PTTL", "k") == 5000
    deadline = b"%d" % (now + 5000)
    assert run.feed[-1] == encode_command([b"RESTORE", b"k", deadline, payload, b"ABSTTL"])


def test_restore_absttl_keeps_the_deadline_and_the_command(run: Runner) -> None:
    deadline = run.clock.now_ms() + 9000
    run.feed.clear()
    payload = dump_payload(b"v")
    assert run("RESTORE", "k", deadline, payload, "ABSTTL") is OK
    assert run("PTTL", "k") == 9000
    assert run.feed[-1] == encode_command([b"RESTORE", b"k", b"%d" % deadline, payload, b"ABSTTL"])


def test_restore_of_an_already_expired_deadline(run: Runner) -> None:
    past = run.clock.now_ms() - 1
    payload = dump_payload(b"v")
    run.feed.clear()
    assert run("RESTORE", "k", past, payload, "ABSTTL") is OK
    assert run("EXISTS", "k") == 0
    assert run.feed == []
    run("SET", "k", "old")
    run.feed.clear()
    assert run("RESTORE", "k", past, payload, "ABSTTL", "REPLACE") is OK
    assert run("EXISTS", "k") == 0
    assert run.feed == [encode_command([b"DEL", b"k"])]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["0", "bad", "BOGUS"], ERR_SYNTAX),
        (["0", "bad", "IDLETIME"], ERR_SYNTAX),
        (["0", "bad", "IDLETIME", "-1"], ERR_INVALID_IDLETIME),
        (["0", "bad", "IDLETIME", "x"], ERR_NOT_INTEGER),
        (["0", "bad", "FREQ", "256"], ERR_INVALID_FREQ),
        (["0", "bad", "FREQ", "1", "IDLETIME", "1"], ERR_SYNTAX),
        (["x", "bad"], ERR_NOT_INTEGER),
        (["-1", "bad"], ERR_INVALID_TTL),
        (["0", "bad"], ERR_DUMP_PAYLOAD),
    ],
)
def test_restore_errors(run: Runner, args: list[str], error: str) -> None:
    assert run("RESTORE", "k", *args) == RespError(error)


def test_restore_checks_busykey_before_the_ttl(run: Runner) -> None:
    run("SET", "k", "v")
    assert run("RESTORE", "k", "-1", "bad") == RespError(ERR_BUSYKEY)


def test_restore_of_a_valid_checksum_over_bad_data(run: Runner) -> None:
    from persistence.codecs import crc64

    body = b"\x01\x05" + (9).to_bytes(2, "little")  # a list of 5 strings, none there
    payload = body + crc64(body).to_bytes(8, "little")
    assert run("RESTORE", "k", "0", payload) == RespError(ERR_BAD_DATA_FORMAT)


def test_restore_notifies_and_counts_a_change(run: Runner) -> None:
    before = run.app.dirty
    run("RESTORE", "k", "0", dump_payload(b"v"))
    assert run.app.dirty == before + 1


# --- SAVE / BGSAVE / LASTSAVE ---


def test_save_writes_dbfilename_and_resets_the_change_counter(in_tmp: Path) -> None:
    run = _runner(("dbfilename", ["snap.rdb"]))
    run("SET", "a", "1")
    run("SET", "b", "2")
    assert run.app.dirty == 2
    run.app.last_save_s = 0
    assert run("SAVE") is OK
    assert run.app.dirty == 0
    assert run("LASTSAVE") > 0
    ks = Keyspace()
    load_rdb((in_tmp / "snap.rdb").read_bytes(), ks)
    assert ks.dbs[0].peek(b"a") == b"1"
    assert not list(in_tmp.glob("temp-*"))


def test_bgsave_forks_and_reports(in_tmp: Path) -> None:
    run = _runner()
    run("SET", "a", "1")
    assert run("BGSAVE") == SimpleString(b"Background saving started")
    durability = durability_of(run.app)
    assert run("BGSAVE") == RespError("ERR Background save already in progress")
    assert run("SAVE") == RespError("ERR Background save already in progress")
    assert durability.reap(block=True)
    assert durability.lastbgsave_ok
    assert run.app.dirty == 0
    assert (in_tmp / "dump.rdb").exists()
    assert dict(persistence_info(run.app))["rdb_saves"] == 1


def test_bgsave_schedule_and_the_other_child(in_tmp: Path) -> None:
    run = _runner()
    assert run("BGREWRITEAOF") == SimpleString(b"Background append only file rewriting started")
    assert run("BGSAVE") == RespError(
        "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE "
        "SCHEDULE in order to schedule a BGSAVE whenever possible."
    )
    assert run("BGSAVE", "SCHEDULE") == SimpleString(b"Background saving scheduled")
    assert run("BGREWRITEAOF") == RespError(
        "ERR Background append only file rewriting already in progress"
    )
    assert run("BGSAVE", "NOW") == RespError(ERR_SYNTAX)
    durability = durability_of(run.app)
    assert durability.reap(block=True)  # the rewrite ends; the scheduled BGSAVE starts
    assert durability.child is not None
    assert durability.child.kind == "rdb"
    assert durability.reap(block=True)
    assert (in_tmp / "dump.rdb").exists()
    manifest = read_manifest("appendonlydir", "appendonly.aof")
    assert manifest is not None
    assert manifest.base is not None
    assert not manifest.incrs


def test_a_failed_bgsave_sets_misconf_for_writes(in_tmp: Path) -> None:
    run = _runner(("dbfilename", ["missing-dir/dump.rdb"]))
    durability = durability_of(run.app)
    assert run("BGSAVE") == SimpleString(b"Background saving started")
    durability.reap(block=True)
    assert not durability.lastbgsave_ok
    assert dict(persistence_info(run.app))["rdb_last_bgsave_status"] == "err"
    # No save points: writes go on (Redis refuses them only when save points exist).
    assert run("SET", "k", "v") is OK
    run.app.config.set("save", ["3600", "1"])
    assert run("SET", "k", "v") == RespError(ERR_MISCONF)
    assert run("GET", "k") == b"v"
    run.app.config.set("stop-writes-on-bgsave-error", ["no"])
    assert run("SET", "k", "v") is OK


def test_save_points_trigger_a_bgsave_from_cron(in_tmp: Path) -> None:
    run = _runner(("save", ["1", "2"]))
    durability = durability_of(run.app)
    run.app.last_save_s -= 10
    run("SET", "a", "1")
    durability.cron()
    assert durability.child is None
    run("SET", "b", "1")
    durability.cron()
    assert durability.reap(block=True)  # the save point started a child
    assert run.app.dirty == 0


def test_parse_save_points() -> None:
    assert parse_save_points("3600 1 300 100") == [(3600, 1), (300, 100)]
    assert parse_save_points("") == []


# --- DEBUG RELOAD ---


def test_debug_reload_saves_and_loads_back(in_tmp: Path) -> None:
    run = _runner()
    run("SET", "a", "1")
    run("SET", "gone", "1", "PX", "10")
    assert run("DEBUG", "RELOAD") is OK
    assert run("GET", "a") == b"1"
    run.clock.advance(20)
    assert run("DEBUG", "RELOAD", "NOSAVE") is OK
    assert run("GET", "a") == b"1"
    assert run("DEBUG", "RELOAD", "BOGUS") == RespError(ERR_DEBUG_RELOAD_OPTIONS)
    assert run("DEBUG", "RELOAD", "NOFLUSH", "NOSAVE") == RespError(
        "ERR Error trying to load the RDB dump"
    )
    assert run("DEBUG", "RELOAD", "NOFLUSH", "NOSAVE", "MERGE") is OK
    assert run("DEBUG", "NOPE") == RespError(
        "ERR unknown subcommand or wrong number of arguments for 'NOPE'. Try DEBUG HELP."
    )


# --- shutdown ---


@pytest.mark.parametrize(
    ("save", "flags", "expected"),
    [
        ("3600 1", frozenset(), True),
        ("3600 1", frozenset({"nosave"}), False),
        ("", frozenset(), False),
        ("", frozenset({"save"}), True),
    ],
)
def test_shutdown_saves_with_save_points_or_save(
    save: str, flags: frozenset[str], expected: bool
) -> None:
    run = Runner([("save", save.split() or [""])])
    assert durability_of(run.app).should_save_on_shutdown(flags) is expected


def test_shutdown_hook_writes_the_final_snapshot(in_tmp: Path) -> None:
    run = Runner([("save", ["900", "1"])])
    run("SET", "k", "v")
    durability_of(run.app).on_shutdown()
    assert (in_tmp / "dump.rdb").exists()


# --- INFO persistence ---


def test_info_fields_in_redis_order(in_tmp: Path) -> None:
    run = _runner()
    names = [name for name, _ in persistence_info(run.app)]
    assert names[:3] == ["loading", "async_loading", "current_cow_peak"]
    assert names[-2:] == ["module_fork_in_progress", "module_fork_last_cow_size"]
    assert "aof_current_size" not in names
    assert len(names) == 30


# --- the AOF at run time (needs a loop: the fsync worker reports back to it) ---


class _FakeTransport:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


def FakeTransport() -> Any:  # noqa: N802  (reads as the class it stands for)
    return _FakeTransport()


async def _until(predicate: Any, limit_s: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not predicate():
        assert loop.time() < deadline, "condition not met"
        await asyncio.sleep(0.005)


def _aof_runner(policy: str) -> tuple[Runner, Durability]:
    run = _runner(("appendfsync", [policy]))
    run.app.feed.clear()  # the Runner's own capture would only duplicate the stream
    durability = durability_of(run.app)
    durability.mark_started()
    return run, durability


async def test_appendonly_yes_writes_a_base_then_the_incr_file(in_tmp: Path) -> None:
    run, durability = _aof_runner("everysec")
    run("SET", "before", "1")
    run.app.config.set("appendonly", ["yes"])
    assert durability.aof_state == "wait_rewrite"
    run("SET", "during", "2")
    await _until(lambda: durability.aof_state == "on")
    run("SET", "after", "3")
    durability.flush_aof()
    manifest = read_manifest("appendonlydir", "appendonly.aof")
    assert manifest is not None
    assert manifest.base is not None
    assert [i.name for i in manifest.incrs] == ["appendonly.aof.1.incr.aof"]
    incr = (in_tmp / "appendonlydir" / "appendonly.aof.1.incr.aof").read_bytes()
    assert incr.startswith(encode_command([b"SELECT", b"0"]))
    assert b"during" in incr
    assert b"after" in incr
    assert b"before" not in incr
    info = dict(persistence_info(run.app))
    assert info["aof_enabled"] == 1
    assert int(str(info["aof_current_size"])) > 0
    run.app.config.set("appendonly", ["no"])
    assert durability.aof_state == "off"
    assert run.app.reply_gate is None
    durability.on_shutdown()


async def test_always_holds_replies_until_the_fsync(in_tmp: Path) -> None:
    run, durability = _aof_runner("always")
    run.app.config.set("appendonly", ["yes"])
    await _until(lambda: durability.aof_state == "on")
    gate = run.app.reply_gate
    assert gate is not None
    first, second = FakeTransport(), FakeTransport()
    run("SET", "k", "v")
    assert gate(first, b"+OK\r\n", False)  # held: its write is not durable yet
    assert gate(second, b"$1\r\nv\r\n", True)  # a read behind it waits too
    assert first.written == []
    assert second.written == []
    await _until(lambda: second.closed)
    assert first.written == [b"+OK\r\n"]
    assert second.written == [b"$1\r\nv\r\n"]
    writer = durability.writer
    assert writer is not None
    assert writer.synced_offset == writer.appended_offset
    # Nothing pending: replies pass straight through.
    assert not gate(FakeTransport(), b"+PONG\r\n", False)
    durability.on_shutdown()


async def test_everysec_writes_once_per_loop_iteration_before_the_replies(in_tmp: Path) -> None:
    run, durability = _aof_runner("everysec")
    run.app.config.set("appendonly", ["yes"])
    await _until(lambda: durability.aof_state == "on")
    writer = durability.writer
    assert writer is not None
    writes: list[int] = []
    write_all = writer.write_all

    def counted(data: bytes) -> None:
        writes.append(len(data))
        write_all(data)

    writer.write_all = counted  # type: ignore[method-assign]
    gate = run.app.reply_gate
    assert gate is not None
    first, second, third = FakeTransport(), FakeTransport(), FakeTransport()
    run("SET", "k", "v")
    assert gate(first, b"+OK\r\n", False)  # held: its write(2) has not happened
    run("SET", "k2", "v")
    assert gate(second, b"+OK\r\n", False)
    assert gate(third, b"$1\r\nv\r\n", True)  # a read behind them keeps its place
    assert first.written == second.written == third.written == []
    assert writer.written_offset == 0
    await _until(lambda: third.closed)
    # One write(2) for both clients' commands, then every reply, in order.
    assert writes == [writer.appended_offset]
    assert writer.written_offset == writer.appended_offset
    assert first.written == [b"+OK\r\n"]
    assert second.written == [b"+OK\r\n"]
    assert third.written == [b"$1\r\nv\r\n"]
    # Nothing waits to be written: a reply passes straight through.
    assert not gate(FakeTransport(), b"+PONG\r\n", False)
    durability.on_shutdown()


@pytest.mark.parametrize("policy", ["always", "everysec"])
async def test_a_failed_first_rewrite_still_delivers_the_held_replies(
    in_tmp: Path, policy: str
) -> None:
    run, durability = _aof_runner(policy)
    run.app.config.set("appendonly", ["yes"])
    assert durability.aof_state == "wait_rewrite"
    gate = run.app.reply_gate
    assert gate is not None
    client = FakeTransport()
    run("SET", "k", "v")
    assert gate(client, b"+OK\r\n", False)  # held behind the write it waits for
    durability._discard_wait_rewrite_writer()  # what a failed rewrite does in this state
    assert client.written == [b"+OK\r\n"]
    durability.on_shutdown()


async def test_bgrewriteaof_rotates_the_incr_file_and_drops_history(in_tmp: Path) -> None:
    run, durability = _aof_runner("everysec")
    run.app.config.set("appendonly", ["yes"])
    await _until(lambda: durability.aof_state == "on")
    run("SET", "a", "1")
    assert run("BGREWRITEAOF") == SimpleString(b"Background append only file rewriting started")
    run("SET", "b", "2")
    await _until(lambda: durability.child is None)
    manifest = read_manifest("appendonlydir", "appendonly.aof")
    assert manifest is not None
    assert manifest.base is not None
    assert manifest.base.name == "appendonly.aof.2.base.rdb"
    assert [i.name for i in manifest.incrs] == ["appendonly.aof.2.incr.aof"]
    assert manifest.history == []
    assert sorted(os.listdir("appendonlydir")) == [
        "appendonly.aof.2.base.rdb",
        "appendonly.aof.2.incr.aof",
        "appendonly.aof.manifest",
    ]
    durability.on_shutdown()


# --- memcached metadata in snapshots and the AOF ---


def test_memcached_metadata_travels_in_the_rdb_aux_field(in_tmp: Path) -> None:
    run = _runner()
    run("SET", "item", "value")
    durability = durability_of(run.app)
    durability.mcmeta_export = lambda: {b"item": (42, 1001)}
    assert run("SAVE") is OK
    result = load_rdb((in_tmp / "dump.rdb").read_bytes(), Keyspace())
    assert b"duocache-mcmeta" in result.aux
    received: list[dict[bytes, tuple[int, int]]] = []
    durability.mcmeta_import = received.append
    assert run("DEBUG", "RELOAD", "NOSAVE") is OK
    assert received == [{b"item": (42, 1001)}]


def test_without_metadata_no_aux_field_is_written(in_tmp: Path) -> None:
    run = _runner()
    run("SET", "k", "v")
    assert run("SAVE") is OK
    result = load_rdb((in_tmp / "dump.rdb").read_bytes(), Keyspace())
    assert b"duocache-mcmeta" not in result.aux


async def test_aof_metadata_effects_are_applied_on_load(in_tmp: Path) -> None:
    run, durability = _aof_runner("always")
    run.app.config.set("appendonly", ["yes"])
    await _until(lambda: durability.aof_state == "on")
    run("SET", "item", "v")
    run.app.propagate(0, [b"PUBLISH", b"__duocache:mcmeta", b"7 99 item"])
    durability.on_shutdown()
    again = _runner(("appendonly", ["yes"]))
    restored = durability_of(again.app)
    applied: list[tuple[bytes, int, int]] = []
    restored.mcmeta_apply = lambda key, flags, cas: applied.append((key, flags, cas))
    assert await restored.load_at_startup()
    assert again("GET", "item") == b"v"
    assert applied == [(b"item", 7, 99)]
    restored.on_shutdown()


async def test_automatic_rewrite_on_growth(in_tmp: Path) -> None:
    run, durability = _aof_runner("everysec")
    run.app.config.set("auto-aof-rewrite-min-size", ["1000"])
    run.app.config.set("auto-aof-rewrite-percentage", ["100"])
    run.app.config.set("appendonly", ["yes"])
    await _until(lambda: durability.aof_state == "on")
    rewrites = durability.aof_rewrites
    durability.cron()
    assert durability.aof_rewrites == rewrites  # no growth yet
    for i in range(100):
        run("SET", f"key{i}", "x" * 50)
    durability.cron()
    assert durability.aof_rewrites == rewrites + 1
    await _until(lambda: durability.child is None)
    assert durability.aof_lastbgrewrite_ok
    durability.on_shutdown()
