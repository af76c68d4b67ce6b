"""Sentinel mode: `python -m server --sentinel <config>` runs a failover monitor.

Wiring only. The algorithm is replication/failover.py (no I/O), the connections to the
watched instances replication/links.py, the config file replication/sentinel_config.py, the
commands server/commands/sentinel.py. This module builds a `Monitor` from the config, gives
the process the monitor's command table, drives the monitor's timer on the event loop,
publishes its events on pub/sub (`+sdown`, `+switch-master`, ... with Sentinel's payloads)
and logs them, and saves its state to the config file whenever the monitor asks.

The server itself is the normal one (RESP listener, clients, pub/sub, AUTH, HELLO, CLIENT,
SHUTDOWN); only the command table differs (see server/commands/sentinel.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import weakref
from typing import TYPE_CHECKING

from replication.failover import Monitor
from replication.instances import DEFAULT_PORT, Event, Level, new_run_id
from replication.links import Links
from replication.sentinel_config import (
    Directive,
    SentinelConfigError,
    load_directives,
    rewrite_file,
)
from server.commands import sentinel as sentinel_commands
from server.config import Config
from storage.clock import Clock, SystemClock

if TYPE_CHECKING:
    from server.app import App
    from server.context import CommandContext

logger = logging.getLogger(__name__)

_LOG_LEVELS = {
    Level.DEBUG: logging.DEBUG,
    Level.VERBOSE: logging.INFO,
    Level.NOTICE: logging.INFO,
    Level.WARNING: logging.WARNING,
}

# Sentinel's timer runs at hz 10 to 19, changed at every tick so that monitors started
# together do not stay in step (and keep splitting the votes).
_HZ = 10


class SentinelNode:
    """One monitor process: the Monitor, its links, its timer and its config file."""

    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.config = config
        self.path = config.config_file
        self.monitor = Monitor(clock or SystemClock())
        self.monitor.flush_config = self.flush_config
        self.monitor.on_event = self.on_event
        self.monitor.crash = _crash
        self.monitor.requirepass = config["requirepass"] or None
        self.app: App | None = None
        self.links: Links | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._rng = random.Random()

    # --- what the monitor asks of us ---

    def flush_config(self) -> bool:
        """sentinelFlushConfig: the state into the config file, fsynced, before returning."""
        if self.path is None:
            return False
        try:
            rewrite_file(self.path, self.monitor)
        except OSError as e:
            logger.warning(
                "WARNING: Sentinel was not able to save the new configuration on disk!!!: %s",
                e.strerror or e,
            )
            return False
        logger.info("Sentinel new configuration saved on disk")
        return True

    def on_event(self, event: Event) -> None:
        """Log the event and, unless it is a debug one, publish it on its channel."""
        logger.log(_LOG_LEVELS[event.level], "%s %s", event.type, event.message)
        app = self.app
        if event.level is not Level.DEBUG and app is not None and app.publish is not None:
            app.publish(event.type.encode(), event.message.encode("utf-8", "surrogateescape"))

    # --- lifecycle ---

    def bind(self, app: App) -> None:
        """Serve `app`'s clients as this monitor (its commands find the monitor through it)."""
        self.app = app
        _NODES[app] = self

    def attach(self, app: App) -> None:
        """Bind, then start the links and the timer (on the running loop)."""
        self.bind(app)
        self.links = Links(self.monitor)
        self.monitor.wakeup = self.links.wake
        app.shutdown_hooks.append(self.stop)
        self.monitor.start()
        self._schedule()

    def _schedule(self) -> None:
        hz = _HZ + self._rng.randrange(_HZ)
        self._timer = asyncio.get_running_loop().call_later(1 / hz, self._tick)

    def _tick(self) -> None:
        app = self.app
        assert app is not None
        assert self.links is not None
        bound = app.bound.get("resp")
        if bound is None:
            self.monitor.previous_ms = self.monitor.now()  # not serving yet: no TILT
        else:
            # The port we announce in hellos is the one we listen on (--port 0 included).
            self.monitor.port = bound[1]
            try:
                self.monitor.timer()
            except Exception:
                logger.exception("sentinel timer failed")
            self.links.pump()
        self._schedule()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.links is not None:
            self.links.close_all()


_NODES: weakref.WeakKeyDictionary[App, SentinelNode] = weakref.WeakKeyDictionary()


def monitor_for(ctx: CommandContext) -> Monitor:
    """The monitor a command runs against (the one attached to its App)."""
    return _NODES[ctx.app].monitor


def node_for(app: App) -> SentinelNode:
    return _NODES[app]


def _crash() -> None:
    logger.warning("Sentinel CRASH because of SENTINEL simulate-failure")
    logging.shutdown()
    os._exit(99)


def build_node(config: Config, clock: Clock | None = None) -> SentinelNode:
    """The monitor described by `config`'s `sentinel` directives, with an id.

    Raises:
        SentinelConfigError: a directive redis-sentinel would refuse.
    """
    node = SentinelNode(config, clock)
    directives = [Directive(tuple(args), n, line) for args, n, line in config.sentinel_directives]
    load_directives(node.monitor, directives)
    node.monitor.port = config["port"] or DEFAULT_PORT
    if not node.monitor.myid:
        # A new monitor picks its id once and keeps it across restarts (sentinelIsRunning).
        node.monitor.myid = new_run_id()
        node.flush_config()
    logger.warning("Sentinel ID is %s", node.monitor.myid)
    return node


class SentinelStartupError(Exception):
    """Sentinel mode cannot start; `text` is what redis-sentinel prints before exiting."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def prepare_sentinel(config: Config) -> SentinelNode:
    """Check the config file and build the monitor, before serving.

    Raises:
        SentinelStartupError: no writable config file, or a bad `sentinel` directive.
    """
    path = config.config_file
    if path is None:
        raise SentinelStartupError("Sentinel needs config file on disk to save state. Exiting...\n")
    if not os.access(path, os.W_OK):
        reason = os.strerror(2 if not os.path.exists(path) else 13)
        raise SentinelStartupError(
            f"Sentinel config file {path} is not writable: {reason}. Exiting...\n"
        )
    try:
        return build_node(config)
    except SentinelConfigError as e:
        raise SentinelStartupError(
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n"
            f"Reading the configuration file, at line {e.line_number}\n"
            f">>> '{e.line}'\n{e.text}\n"
        ) from None


def configure_sentinel(config: Config) -> str | None:
    """Prepare sentinel mode and have serve() start it; the text to print and exit with on
    failure."""
    try:
        node = prepare_sentinel(config)
    except SentinelStartupError as e:
        return e.text
    from server.serve import STARTUP_HOOKS

    STARTUP_HOOKS.append(lambda app: start_sentinel(app, node))
    return None


def start_sentinel(app: App, node: SentinelNode) -> None:
    """Startup hook: the monitor's command table, then the monitor itself."""
    sentinel_commands.install_sentinel_table()
    sentinel_commands.set_monitor_lookup(monitor_for)
    node.attach(app)
