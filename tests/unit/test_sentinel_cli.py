"""`python -m server --sentinel ...`: the argument forms and the startup checks (in-process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.cli import parse_args
from server.config import ConfigError
from server.sentinel import SentinelStartupError, prepare_sentinel

CONF = (
    "sentinel monitor mymaster 127.0.0.1 7000 2\nsentinel down-after-milliseconds mymaster 1000\n"
)


def test_config_file_after_sentinel(tmp_path: Path) -> None:
    path = tmp_path / "s.conf"
    path.write_text(CONF)
    config = parse_args(["--sentinel", str(path)])
    assert config.sentinel_mode
    assert config.config_file == str(path)
    assert [args for args, _, _ in config.sentinel_directives] == [
        ["monitor", "mymaster", "127.0.0.1", "7000", "2"],
        ["down-after-milliseconds", "mymaster", "1000"],
    ]
    # redis-sentinel's defaults: port 26379, no protected mode; no memcached listener.
    assert (config["port"], config["protected-mode"], config["memcache-port"]) == (26379, False, 0)


def test_config_file_first_then_sentinel_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "s.conf").write_text("port 5000\n" + CONF)
    monkeypatch.chdir(tmp_path)
    config = parse_args(["s.conf", "--sentinel", "--port", "5001"])
    assert config.sentinel_mode
    # Made absolute: the monitor rewrites it after `dir` moved the working directory.
    assert config.config_file == str(tmp_path / "s.conf")
    assert config["port"] == 5001
    assert len(config.sentinel_directives) == 2


def test_sentinel_directives_on_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "s.conf"
    path.write_text(CONF)
    config = parse_args([str(path), "--sentinel", "--sentinel", "quorum-free", "x"])
    assert config.sentinel_directives[-1][0] == ["quorum-free", "x"]


def test_sentinel_directive_outside_sentinel_mode(tmp_path: Path) -> None:
    path = tmp_path / "s.conf"
    path.write_text(CONF)
    with pytest.raises(ConfigError, match="sentinel directive while not in sentinel mode"):
        parse_args([str(path)])


def test_sentinel_needs_a_config_file() -> None:
    config = parse_args(["--sentinel"])
    with pytest.raises(SentinelStartupError) as info:
        prepare_sentinel(config)
    assert info.value.text == "Sentinel needs config file on disk to save state. Exiting...\n"


def test_sentinel_needs_a_writable_config_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.conf"
    config = parse_args(["--sentinel"])
    config.config_file = str(path)
    with pytest.raises(SentinelStartupError) as info:
        prepare_sentinel(config)
    assert info.value.text == (
        f"Sentinel config file {path} is not writable: No such file or directory. Exiting...\n"
    )


def test_bad_directive_is_a_fatal_config_error(tmp_path: Path) -> None:
    path = tmp_path / "s.conf"
    path.write_text("port 26379\nsentinel monitor mymaster 127.0.0.1 7000 0\n")
    with pytest.raises(SentinelStartupError) as info:
        prepare_sentinel(parse_args(["--sentinel", str(path)]))
    assert info.value.text == (
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n"
        "Reading the configuration file, at line 2\n"
        ">>> 'sentinel monitor mymaster 127.0.0.1 7000 0'\n"
        "Quorum must be 1 or greater.\n"
    )


def test_a_new_monitor_picks_and_saves_its_id(tmp_path: Path) -> None:
    path = tmp_path / "s.conf"
    path.write_text(CONF)
    node = prepare_sentinel(parse_args(["--sentinel", str(path)]))
    myid = node.monitor.myid
    assert len(myid) == 40
    assert f"sentinel myid {myid}\n" in path.read_text()
    again = prepare_sentinel(parse_args(["--sentinel", str(path)]))
    assert again.monitor.myid == myid
