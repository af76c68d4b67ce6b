"""Shared fixtures: in-process command runner, server processes, real clients, real Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from server import dispatch
from tests.differential import Differential
from tests.support import (
    RealServer,
    Runner,
    ServerProcess,
    start_duocache,
    start_real_redis,
)


@pytest.fixture(autouse=True)
def _no_internal_errors() -> Iterator[None]:
    """A handler that raises anything but a command or storage error fails the test."""
    dispatch.internal_errors.clear()
    yield
    errors = list(dispatch.internal_errors)
    dispatch.internal_errors.clear()
    if errors:
        pytest.fail(f"internal error inside a handler: {errors[0]!r}")


@pytest.fixture
def run() -> Runner:
    """Run commands in-process against a fresh App with a fake clock; returns Python values."""
    return Runner()


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A `python -m server` process on free loopback ports, stopped with SIGTERM."""
    proc = start_duocache(tmp_path_factory.mktemp("duocache"))
    yield proc
    proc.stop()


@pytest.fixture
def r(server: ServerProcess) -> Iterator[redis.Redis]:
    """redis-py with its defaults for redis-py 8 (RESP3 via HELLO 3)."""
    client = redis.Redis(port=server.port, protocol=3)
    yield client
    client.close()


@pytest.fixture
def r2(server: ServerProcess) -> Iterator[redis.Redis]:
    """redis-py speaking RESP2."""
    client = redis.Redis(port=server.port, protocol=2)
    yield client
    client.close()


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One Duocache for a whole test session (differential tests flush it first)."""
    proc = start_duocache(tmp_path_factory.mktemp("duocache-shared"))
    yield proc
    proc.stop()


@pytest.fixture
def diff(shared_server: ServerProcess, real_redis: RealServer) -> Iterator[Differential]:
    """Differential RESP2 connections to Duocache and real Redis, both flushed."""
    d = Differential(shared_server.port, real_redis.port)
    yield d
    d.close()


@pytest.fixture
def diff3(shared_server: ServerProcess, real_redis: RealServer) -> Iterator[Differential]:
    """Differential RESP3 connections (HELLO 3 on both)."""
    d = Differential(shared_server.port, real_redis.port, resp3=True)
    yield d
    d.close()


@pytest.fixture(scope="session")
def real_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealServer]:
    """A real redis-server 7 on a free port, for differential tests (skipped if absent)."""
    proc = start_real_redis(tmp_path_factory.mktemp("real-redis"))
    yield proc
    proc.stop()
