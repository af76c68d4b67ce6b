"""Command line: redis-server's argument forms, then the asyncio runner.

    python -m server [/path/to/duocache.conf] [--port 7000] [--save ""] [--appendonly yes]
    python -m server --sentinel /path/to/sentinel.conf      (the failover monitor)

Every `--name` is a redis.conf directive with its arguments; a config file, when given,
comes first and the command line overrides it, as redis-server does. `--sentinel` anywhere
selects the failover monitor (server/sentinel.py), whose state lives in its config file.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from server.config import Config, ConfigError, directives_from_argv
from server.loop import loop_factory

logger = logging.getLogger(__name__)

USAGE = """Usage: duocache [/path/to/duocache.conf] [--directive value ...]
       duocache backup --host H --port P [--user U] [--password X] FILE
       duocache restore FILE [--dir D] [--dbfilename F]
       duocache group up [--replicas 2] [--sentinels 3] [--dir ./duocache-group]
       duocache group status | down [--dir ./duocache-group]
       duocache --version
       duocache -h | --help

Examples:
       duocache                                   (RESP on 6379, memcached on 11211)
       duocache --port 7000 --memcache-port 0     (RESP only, on 7000)
       duocache /etc/duocache.conf --loglevel verbose
       duocache --replicaof 127.0.0.1 6379
       duocache backup --host 10.0.0.5 --port 6379 nightly.rdb
                                                  (a snapshot of a running server, over SYNC)
       duocache restore nightly.rdb --dir /var/lib/duocache
                                                  (validate it, install it as dump.rdb)
       duocache --sentinel /etc/sentinel.conf       (failover monitor, RESP on 26379)
       duocache group up                          (a primary, 2 replicas, 3 monitors, detached)
"""

# Sentinel mode's defaults, as redis-sentinel's (initSentinelConfig); no memcached listener.
_SENTINEL_DEFAULTS = (("port", "26379"), ("protected-mode", "no"), ("memcache-port", "0"))


def parse_args(argv: Sequence[str]) -> Config:
    """Build the configuration from argv (without the program name).

    Raises:
        ConfigError: an unknown directive or a bad value.
    """
    config = Config()
    args = list(argv)
    # The mode is known before anything is read: a config file's `sentinel` lines need it.
    if "--sentinel" in args:
        config.sentinel_mode = True
        for name, value in _SENTINEL_DEFAULTS:
            config.set(name, [value], startup=True)
    if args and not args[0].startswith("--"):
        config.config_file = args.pop(0)
    directives = []
    sentinel_lines: list[tuple[list[str], int, str]] = []
    for name, values in directives_from_argv(args):
        if name != "sentinel":
            directives.append((name, values))
        elif len(values) == 1 and config.config_file is None:
            config.config_file = values[0]  # --sentinel <config file>
        elif values:
            # --sentinel monitor mymaster 127.0.0.1 6379 2: a line of the config, as Redis.
            sentinel_lines.append((values, 0, " ".join(["sentinel", *values])))
    if config.config_file is not None:
        if config.sentinel_mode:
            # The monitor rewrites its file after `dir` changed the working directory.
            config.config_file = os.path.abspath(config.config_file)
        config.load_file(config.config_file)
    config.sentinel_directives += sentinel_lines
    for name, values in directives:
        config.set(name, values, startup=True)
    return config


def _configure_logging(config: Config) -> None:
    level = {
        "debug": logging.DEBUG,
        "verbose": logging.INFO,
        "notice": logging.INFO,
        "warning": logging.WARNING,
    }[config["loglevel"]]
    logfile = config["logfile"]
    handler: logging.Handler = (
        logging.FileHandler(logfile) if logfile else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(
        logging.Formatter(
            "%(process)d:M %(asctime)s %(levelname).1s %(message)s", "%d %b %Y %H:%M:%S"
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def _tool(args: list[str]) -> int:
    """`duocache backup ...` and `duocache restore ...`."""
    import argparse

    from persistence.backup import (
        BackupError,
        ProgressLine,
        fetch_snapshot,
        install_snapshot,
    )

    parser = argparse.ArgumentParser(prog="duocache")
    sub = parser.add_subparsers(dest="tool", required=True)
    backup = sub.add_parser("backup", help="write a snapshot of a running server to FILE")
    backup.add_argument("--host", default="127.0.0.1")
    backup.add_argument("--port", type=int, default=6379)
    backup.add_argument("--user", default=None)
    backup.add_argument("--password", default=None)
    backup.add_argument("--timeout", type=float, default=60.0)
    backup.add_argument("--progress-step", type=int, default=10, help="percent between lines")
    backup.add_argument("file")
    restore = sub.add_parser("restore", help="validate an RDB file and install it in a data dir")
    restore.add_argument("file")
    restore.add_argument("--dir", default=".")
    restore.add_argument("--dbfilename", default="dump.rdb")
    restore.add_argument("--progress-step", type=int, default=10, help="percent between lines")
    options = parser.parse_args(args)
    try:
        if options.tool == "backup":
            size = fetch_snapshot(
                options.host,
                options.port,
                options.file,
                password=options.password,
                user=options.user,
                timeout_s=options.timeout,
                progress=ProgressLine("backup", options.progress_step),
            )
            sys.stdout.write(f"Backup of {options.host}:{options.port} written to {options.file}")
            sys.stdout.write(f" ({size} bytes)\n")
        else:
            summary = install_snapshot(
                options.file,
                options.dir,
                options.dbfilename,
                progress=ProgressLine("restore", options.progress_step),
            )
            target = os.path.join(options.dir, options.dbfilename)
            sys.stdout.write(
                f"Installed {options.file} as {target}: RDB version {summary.version}, "
                f"{summary.keys} keys, written by Redis {summary.redis_ver or 'unknown'}. "
                "Start the server with this directory to load it.\n"
            )
    except (BackupError, OSError) as e:
        sys.stderr.write(f"duocache {options.tool}: {e}\n")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m server` and the `duocache` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("backup", "restore"):
        return _tool(args)
    if args and args[0] == "group":
        from server.group import main as group_main

        return group_main(args[1:])
    if args and args[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0
    if args and args[0] in ("-v", "--version"):
        from server.app import REDIS_VERSION

        sys.stdout.write(f"Duocache (Redis {REDIS_VERSION} compatible)\n")
        return 0
    try:
        config = parse_args(args)
    except (ConfigError, OSError) as e:
        text = e.text if isinstance(e, ConfigError) else str(e)
        sys.stderr.write(f"*** FATAL CONFIG FILE ERROR ***\n{text}\n")
        return 1
    _configure_logging(config)
    if config.sentinel_mode:
        from server.sentinel import configure_sentinel

        error = configure_sentinel(config)
        if error is not None:
            sys.stderr.write(error)
            return 1
    from server.serve import serve

    with asyncio.Runner(loop_factory=loop_factory(config["loop"])) as runner:
        return runner.run(serve(config))
