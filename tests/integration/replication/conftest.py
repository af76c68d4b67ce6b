"""Fixtures shared by the failover tests: three Duocache monitors over a module's `group`.

Each module defines its own `group` fixture (a RedisGroup or a DuocacheGroup); `monitors`
starts three `python -m server --sentinel` processes watching its primary, and `log`
collects their pub/sub events.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sentinel_support import EventLog, RedisGroup, sentinel_conf, start_monitors
from tests.support import ServerProcess


@pytest.fixture
def monitors(tmp_path: Path, group: RedisGroup) -> Iterator[list[ServerProcess]]:
    procs = start_monitors(tmp_path / "monitors", sentinel_conf(group.primary.port), 3)
    yield procs
    for proc in procs:
        assert proc.stop() == 0, proc.log()[-3000:]


@pytest.fixture
def log(monitors: list[ServerProcess]) -> Iterator[EventLog]:
    events = EventLog(monitors)
    yield events
    events.close()
    assert not events.errors
