"""serve(config): bind the listeners, announce readiness, run until asked to stop.

The ready line is the one machine-readable line on stdout:

    DUOCACHE READY resp=127.0.0.1:6379 memcache=127.0.0.1:11211 pid=4242

(`memcache=-` when that listener is disabled). Tests and the Docker healthcheck read it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Final

from server.app import LOADERS, App
from server.config import Config
from server.connection import RESPConnection

logger = logging.getLogger(__name__)

# Extra listeners registered by other modules: (name, config directive, protocol factory).
ProtocolFactory = Callable[[], asyncio.Protocol]
EXTRA_LISTENERS: list[tuple[str, str, Callable[[App], ProtocolFactory]]] = []
# Called once the app exists and before listening (loading data, replication role, ...).
STARTUP_HOOKS: list[Callable[[App], None]] = []


def _hosts(bind: str) -> list[str]:
    hosts = [h.lstrip("-") for h in bind.split() if h]
    return hosts or ["127.0.0.1"]


async def _listen(
    app: App, name: str, hosts: list[str], port: int, factory: Callable[[], asyncio.Protocol]
) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        factory, hosts, port, reuse_address=True, backlog=app.config["tcp-backlog"]
    )
    app.servers.append(server)
    sockname = server.sockets[0].getsockname()
    app.bound[name] = (sockname[0], sockname[1])


def _import_families() -> None:
    import server.commands  # noqa: F401  (registers every command family)
    from server import memcache_connection  # noqa: F401  (registers the memcached listener)


# Strategy (cyclic GC): every hash, list, set and sorted-set value is a GC-tracked container,
# and a full collection walks all of them: with 500,000 hashes created at run time the
# default thresholds (700, 10, 10) ran 5 full collections, 1.0 s of GC in all and pauses
# of up to 335 ms. Young collections stay as they are (700, 10: pauses of a few ms), and a
# full collection waits for 1,000 middle ones instead of 10 (CPython's own rule that 25% of
# the old generation must be new still applies on top): the same run then had no full
# collection, 0.19 s of GC and a longest pause of 14 ms. What stays costly is a full
# collection when it finally comes, in proportion to the containers stored. Values never
# form reference cycles, so collections only reclaim server objects (connections).
# gc.freeze() moves what exists after startup, the loaded dataset included, out of every
# later collection.
GC_THRESHOLDS: Final = (700, 10, 1000)


def tune_gc() -> None:
    """Set the GC thresholds and freeze the objects of startup (see the Strategy)."""
    gc.set_threshold(*GC_THRESHOLDS)
    gc.collect()
    gc.freeze()


async def serve(config: Config) -> int:
    """Run one server until SIGTERM, SIGINT or SHUTDOWN; return the exit code."""
    _import_families()
    app = App(config)
    if config["dir"] and config["dir"] != ".":
        os.makedirs(config["dir"], exist_ok=True)
        os.chdir(config["dir"])
    for hook in STARTUP_HOOKS:
        hook(app)
    tune_gc()
    app.shutdown_requested = asyncio.Event()
    hosts = _hosts(config["bind"])
    try:
        await _listen(app, "resp", hosts, config["port"], lambda: RESPConnection(app))
        for name, directive, make in EXTRA_LISTENERS:
            port = config[directive]
            if port:
                await _listen(app, name, hosts, port, make(app))
    except OSError as e:
        logger.error("could not listen: %s", e)
        for server in app.servers:
            server.close()
        return 1

    loop = asyncio.get_running_loop()
    signals_seen = 0

    def on_signal(signum: int) -> None:
        nonlocal signals_seen
        signals_seen += 1
        if signals_seen > 1:
            logger.warning("second signal: exiting now")
            os._exit(1)
        logger.info("received %s, scheduling shutdown", signal.Signals(signum).name)
        app.request_shutdown(0)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)

    for load in LOADERS:
        if not await load(app):
            for server in app.servers:
                server.close()
            return 1

    app.start_cron()
    parts = [f"{name}={host}:{port}" for name, (host, port) in app.bound.items()]
    if "memcache" not in app.bound:
        parts.append("memcache=-")
    logger.info("Ready to accept connections")
    sys.stdout.write(f"DUOCACHE READY {' '.join(parts)} pid={os.getpid()}\n")
    sys.stdout.flush()

    await app.shutdown_requested.wait()
    await shutdown(app)
    return app.exit_code


async def shutdown(app: App) -> None:
    """Ordered shutdown; each step says why it comes where it does."""
    # 1. Stop accepting: no new client should see a half-closed server.
    for server in app.servers:
        server.close()
    # 2. Stop periodic work so nothing mutates the keyspace behind the final save.
    await app.stop_cron()
    # 3. Persistence and replication flush and close (AOF fsync, SHUTDOWN SAVE, replica links).
    for hook in app.shutdown_hooks:
        try:
            hook()
        except Exception:
            logger.exception("shutdown step failed")
    # 4. Close client connections; their pending replies were written at each batch's end.
    for ctx in list(app.clients.values()):
        ctx.kill()
    # 5. Wait for the listeners to finish closing, bounded so a stuck peer cannot hold us.
    for server in app.servers:
        try:
            await asyncio.wait_for(server.wait_closed(), timeout=2.0)
        except TimeoutError:
            logger.warning("listener did not close in time")
    logger.info("Duocache is now ready to exit, bye bye...")
