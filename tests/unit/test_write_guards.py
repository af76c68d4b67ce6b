"""The fast paths stay open unless a write guard (OOM, NOREPLICAS, MISCONF) can refuse."""

from __future__ import annotations

from protocol.resp import OK, RespError
from server.dispatch import open_fast_path
from server.durability import durability_of
from server.replication import replication_of
from tests.support import Runner


def _guarded(run: Runner) -> bool:
    return run.app.guards_active


def _fast(run: Runner) -> bool:
    open_fast_path(run.ctx)
    return bool(run.ctx.fast_path)


def test_a_server_with_persistence_and_replication_takes_the_fast_path() -> None:
    run = Runner()
    durability_of(run.app)
    replication_of(run.app)
    assert len(run.app.write_guards) == 2
    assert not _guarded(run)
    assert _fast(run)


def test_min_replicas_to_write_arms_its_guard_and_disarms_it() -> None:
    run = Runner()
    replication_of(run.app)
    assert run("CONFIG", "SET", "min-replicas-to-write", "1") is OK
    assert _guarded(run)
    assert not _fast(run)
    assert run("SET", "k", "v") == RespError("NOREPLICAS Not enough good replicas to write.")
    assert run("CONFIG", "SET", "min-replicas-to-write", "0") is OK
    assert not _guarded(run)
    assert _fast(run)
    assert run("SET", "k", "v") is OK


def test_maxmemory_arms_the_oom_guard() -> None:
    run = Runner()
    assert run("CONFIG", "SET", "maxmemory", "1") is OK
    assert _guarded(run)
    assert run("SET", "k", "v") == RespError(
        "OOM command not allowed when used memory > 'maxmemory'."
    )
    assert run("CONFIG", "SET", "maxmemory", "0") is OK
    assert not _guarded(run)
    assert run("SET", "k", "v") is OK


def test_a_failed_save_arms_misconf_until_a_save_succeeds() -> None:
    run = Runner()
    durability = durability_of(run.app)
    durability.lastbgsave_ok = False
    assert _guarded(run)
    assert not _fast(run)
    assert run("SET", "k", "v").text.startswith("MISCONF ")
    durability.lastbgsave_ok = True
    assert not _guarded(run)
    assert run("SET", "k", "v") is OK
    durability.aof_last_write_error = "No space left on device"
    assert _guarded(run)
    durability.aof_last_write_error = None
    assert not _guarded(run)
