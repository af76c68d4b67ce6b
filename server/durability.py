"""The server's side of persistence: loading at startup, RDB saves (foreground and forked),
save points, the AOF (writer, group commit, rewrites, manifest), MISCONF, shutdown saves,
SYNC transfers, scheduled backups and the INFO persistence fields.

persistence/ holds the formats (RDB, AOF, manifest) and knows nothing of the App; this module
owns the state Redis keeps in `server.*` for them and talks to the event loop. One
`Durability` per App, created by `durability_of(app)`.

Strategy (AOF and replies). Effects reach the AOF through `App.feed` into the writer's
buffer. Replies then pass `App.reply_gate` (set while the AOF is on) before they are written:

* `always`: a reply leaves only once everything appended before it is fsynced. The gate
  holds the batch's encoded replies, tagged with the AOF offset at that moment, and asks
  for a sync at the next loop iteration; one write + fdatasync runs in a worker thread for
  everything appended so far (group commit), and when it completes every held reply whose
  tag it covers is written, in order. The loop keeps serving other clients meanwhile; their
  replies queue behind the next sync. A failed write or fsync ends the process, as Redis
  does, because acknowledged writes could otherwise be lost.
* `everysec`: the buffer is write(2)n before the reply (so a process crash loses nothing
  acknowledged); the worker thread fsyncs once a second. The gate holds the replies of
  every client served in a loop iteration and one write at the next iteration releases
  them all, as Redis's beforeSleep writes the AOF once before it sends any reply.
* `no`: the same, and the OS flushes when it likes.

Strategy (background work). BGSAVE, BGREWRITEAOF, SYNC snapshots and scheduled backups run
in a forked child (one at a time, as Redis allows one child): `gc.freeze()` right before
the fork keeps the collector from touching the parent's objects in the child, the child
writes a temp file, fsyncs it, reports its private dirty memory (copy-on-write) through a
pipe and leaves with `os._exit`; the parent polls `waitpid(WNOHANG)` (every 10 ms while a
child runs, and on every cron tick), renames what the child made and records the outcome.
An AOF rewrite opens the new incr file in the parent in the same tick as the fork, so the
child only writes the base and no rewrite buffer is needed (Redis 7's design).

Scheduled backups (Duocache's own directives):

    backup-interval-seconds 3600   # 0 (default) disables them
    backup-retention 24            # keep this many backup files; older ones are deleted
    backup-dir backups             # where they go, relative to `dir`

Each backup is an RDB named `dump-<YYYYmmdd-HHMMSS>.rdb`, written by a forked child like a
BGSAVE but without touching `dbfilename`, LASTSAVE or the changes counter.

memcached metadata: `mcmeta_export()` returns {key: (flags, cas)} for database 0 and
`mcmeta_import(table)` installs one (RDB `duocache-mcmeta` aux field); `mcmeta_apply(key,
flags, cas)` applies one `PUBLISH __duocache:mcmeta` effect read from an AOF. They default
to no-ops; the memcached side tables are wired to them where both exist.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import io
import logging
import mmap
import os
import signal
import time
import warnings
import weakref
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Final

from persistence import manifest as mf
from persistence.aof import (
    AOFError,
    AOFUnknownCommandError,
    AOFWriter,
    load_aof_data,
    write_base,
)
from persistence.backup import backup_file_name
from persistence.building import EncodingLimits
from persistence.codecs import RDBFormatError
from persistence.format import AUX_MCMETA
from persistence.mcmeta import McMeta, decode_mcmeta, encode_mcmeta
from persistence.rdb import (
    RDBAux,
    RDBLoader,
    RDBLoadResult,
    RDBWriter,
    run_to_end,
    write_rdb,
)
from server.app import REDIS_VERSION, App
from server.context import CommandContext
from server.errors import ERR_MISCONF
from server.info import INFO_PROVIDERS
from server.memcache_meta import apply_meta
from storage.clock import NEVER_EXPIRED

logger = logging.getLogger(__name__)

ALWAYS: Final = "always"
EVERYSEC: Final = "everysec"

AOF_OFF: Final = "off"
AOF_ON: Final = "on"
AOF_WAIT_REWRITE: Final = "wait_rewrite"

CHILD_RDB: Final = "rdb"
CHILD_AOF: Final = "aof"
CHILD_SYNC: Final = "sync"
CHILD_BACKUP: Final = "backup"

BGSAVE_RETRY_DELAY_S: Final = 5  # CONFIG_BGSAVE_RETRY_DELAY
ERR_MISCONF_AOF: Final = "MISCONF Errors writing to the AOF file: %s"

_INSTANCES: weakref.WeakKeyDictionary[App, Durability] = weakref.WeakKeyDictionary()


def durability_of(app: App) -> Durability:
    """The Durability of `app`, created on first use."""
    found = _INSTANCES.get(app)
    if found is None:
        found = _INSTANCES[app] = Durability(app)
    return found


@dataclass(slots=True)
class ChildJob:
    """One forked child and what to do when it ends."""

    kind: str
    pid: int
    started_s: float
    info_fd: int
    temp_path: str
    on_done: Callable[[bool, int | None], None]
    cow_bytes: int = 0


def _private_dirty_bytes() -> int:
    """zmalloc_get_private_dirty: this process's private dirty memory (copy-on-write)."""
    try:
        with open("/proc/self/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Private_Dirty:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def parse_save_points(text: str) -> list[tuple[int, int]]:
    """The `save` directive ("3600 1 300 100") as (seconds, changes) pairs."""
    words = text.split()
    return [(int(words[i]), int(words[i + 1])) for i in range(0, len(words) - 1, 2)]


class Durability:
    """Persistence state and work for one App (Redis's server.* persistence fields)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.config = app.config
        # --- children ---
        self.child: ChildJob | None = None
        self._finished_job: ChildJob | None = None
        self.latest_fork_usec = 0  # INFO stats latest_fork_usec
        self._poll_handle: asyncio.TimerHandle | None = None
        # --- RDB ---
        self.bgsave_scheduled = False
        self._lastbgsave_ok = True
        self.lastbgsave_try_s = 0.0
        self.rdb_save_time_last = -1
        self.rdb_saves = 0
        self.rdb_last_cow_size = 0
        self.dirty_before_bgsave = 0
        self.rdb_last_load_keys_loaded = 0
        self.rdb_last_load_keys_expired = 0
        # --- AOF ---
        self.aof_state = AOF_OFF
        self.manifest = mf.Manifest()
        self.writer: AOFWriter | None = None
        self.aof_rewrite_scheduled = False
        self.aof_lastbgrewrite_ok = True
        self.aof_rewrites = 0
        self.aof_rewrite_failures = 0
        self.aof_rewrite_time_last = -1
        self._aof_last_write_error: str | None = None
        self.aof_last_cow_size = 0
        self.aof_fixed_size = 0  # base + incr files before the one being written
        self.aof_rewrite_base_size = 0
        self.aof_delayed_fsync = 0
        self._aof_ts_s = 0
        self._timestamps = False  # aof-timestamp-enabled, kept here for the write path
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._sync_future: concurrent.futures.Future[int] | None = None
        self._sync_scheduled = False
        self._write_scheduled = False  # `everysec`/`no`: a write + release is queued
        self._last_fsync_s = 0.0
        # Replies held by the gate: (AOF offset they wait for, transport, payload, close).
        # `always` waits for that offset's fsync; `everysec` and `no` tag 0 and wait for the
        # loop iteration's write.
        self.held: deque[tuple[int, asyncio.Transport, bytes, bool]] = deque()
        # --- loading ---
        self.loading_start_s = 0
        self.loading_total_bytes = 0
        self.loading_loaded_bytes = 0
        self.loading_rdb_used_mem = 0
        # --- SYNC transfers and backups ---
        self.sync_waiters: list[SyncTransfer] = []
        self.last_backup_s = time.time()
        self._last_keepalive_s = 0.0
        # --- memcached metadata of database 0 (server/memcache_meta.py's side tables) ---
        self.mcmeta_export: Callable[[], McMeta] = self._mcmeta_export
        self.mcmeta_import: Callable[[McMeta], None] = self._mcmeta_import
        self.mcmeta_apply: Callable[[bytes, int, int], None] = self._mcmeta_apply
        # --- wiring ---
        app.cron_hooks.append(self.cron)
        app.shutdown_hooks.append(self.on_shutdown)
        prepare = getattr(app, "shutdown_prepare", None)
        if isinstance(prepare, list):
            prepare.append(self.prepare_shutdown)
        app.add_write_guard(self._misconf_guard, self._misconf_armed)
        app.config.on_change(self._config_changed)
        self._shutdown_prepared = False

    # --- the MISCONF state (writes refused while a save or an AOF write fails) ---

    @property
    def lastbgsave_ok(self) -> bool:
        return self._lastbgsave_ok

    @lastbgsave_ok.setter
    def lastbgsave_ok(self, ok: bool) -> None:
        self._lastbgsave_ok = ok
        self.app.refresh_guards()

    @property
    def aof_last_write_error(self) -> str | None:
        return self._aof_last_write_error

    @aof_last_write_error.setter
    def aof_last_write_error(self, error: str | None) -> None:
        self._aof_last_write_error = error
        self.app.refresh_guards()

    def _misconf_armed(self) -> bool:
        return not self._lastbgsave_ok or self._aof_last_write_error is not None

    # --- helpers ---

    @property
    def filename(self) -> str:
        return str(self.config["appendfilename"])

    @property
    def aof_dir(self) -> str:
        return str(self.config["appenddirname"])

    def aof_path(self, name: str) -> str:
        return os.path.join(self.aof_dir, name)

    def limits(self) -> EncodingLimits:
        return EncodingLimits.from_config(self.config.get)

    def save_points(self) -> list[tuple[int, int]]:
        return parse_save_points(str(self.config["save"]))

    def rdb_aux(self, *, aof_base: bool = False) -> RDBAux:
        return RDBAux(
            redis_ver=REDIS_VERSION,
            ctime_s=int(time.time()),
            used_mem=_used_memory(self.app),
            repl_stream_db=0,
            repl_id=str(getattr(self.app, "replid", None) or self.app.run_id),
            repl_offset=int(getattr(self.app, "master_repl_offset", 0) or 0),
            aof_base=aof_base,
        )

    def _mcmeta_export(self) -> McMeta:
        tables = self.app.keyspace.dbs[0].mc
        if tables is None:
            return {}
        flags, cas = tables.flags, tables.cas
        return {key: (flags.get(key, 0), cas.get(key, 0)) for key in flags.keys() | cas.keys()}

    def _mcmeta_import(self, table: McMeta) -> None:
        db = self.app.keyspace.dbs[0]
        for key, (flags, cas) in table.items():
            apply_meta(self.app, db, key, flags, cas)

    def _mcmeta_apply(self, key: bytes, flags: int, cas: int) -> None:
        apply_meta(self.app, self.app.keyspace.dbs[0], key, flags, cas)

    def _mcmeta_aux(self) -> list[tuple[bytes, bytes]] | None:
        table = self.mcmeta_export()
        return [(AUX_MCMETA, encode_mcmeta(table))] if table else None

    # --- RDB files ---

    def write_rdb_file(self, path: str, *, tag: str | None = None) -> int:
        """rdbSave: temp file, fsync, rename over `path`, fsync the directory.

        Returns:
            The file's size.

        Raises:
            OSError: nothing was replaced; the temp file is removed.
        """
        temp = os.path.join(os.path.dirname(path), f"temp-{tag or os.getpid()}.rdb")
        delay_us = int(self.config["rdb-key-save-delay"])
        try:
            with open(temp, "wb", buffering=1 << 20) as f:
                if delay_us > 0:
                    size = self._write_slowly(f, delay_us)
                else:
                    writer = write_rdb(
                        f,
                        self.app.keyspace,
                        self.rdb_aux(),
                        compress=bool(self.config["rdbcompression"]),
                        checksum=bool(self.config["rdbchecksum"]),
                        extra_aux=self._mcmeta_aux(),
                    )
                    size = writer.written_bytes
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, path)
            _fsync_path(os.path.dirname(os.path.abspath(path)))
        except BaseException:
            _unlink_quietly(temp)
            raise
        return size

    def _write_slowly(self, f: Any, delay_us: int) -> int:
        """`rdb-key-save-delay`: sleep that long per key (tests use it to keep a child busy)."""
        from persistence.rdb import RDBWriter

        writer = RDBWriter(
            f,
            compress=bool(self.config["rdbcompression"]),
            checksum=bool(self.config["rdbchecksum"]),
        )
        writer.header(self.rdb_aux())
        for db in self.app.keyspace.dbs:
            for _ in range(db.size()):
                time.sleep(delay_us / 1e6)
            writer.database(db)
        for key, value in self._mcmeta_aux() or []:
            writer.aux(key, value)
        return writer.finish()

    def save(self) -> bool:
        """SAVE (and the shutdown save): write `dbfilename` in the foreground."""
        path = str(self.config["dbfilename"])
        self.rdb_saves += 1
        try:
            self.write_rdb_file(path)
        except OSError as e:
            logger.warning("Failed saving the DB: %s", e.strerror or e)
            self.lastbgsave_ok = False
            return False
        logger.info("DB saved on disk")
        self.app.dirty = 0
        self.app.last_save_s = int(time.time())
        self.lastbgsave_ok = True
        return True

    def bgsave(self) -> bool:
        """rdbSaveBackground: fork a child that writes `dbfilename`."""
        if self.child is not None:
            return False
        self.rdb_saves += 1
        self.dirty_before_bgsave = self.app.dirty
        self.lastbgsave_try_s = time.time()
        path = str(self.config["dbfilename"])

        def work() -> None:
            self.write_rdb_file(path)
            logger.info("DB saved on disk")

        job = self._fork(CHILD_RDB, "temp-{pid}.rdb", work, self._bgsave_done)
        if job is None:
            self.lastbgsave_ok = False
            return False
        logger.info(
            "Background saving started by pid %d (fork took %d us)", job.pid, self.latest_fork_usec
        )
        return True

    def _bgsave_done(self, ok: bool, by_signal: int | None) -> None:
        job_time = self._job_seconds()
        if ok:
            logger.info("Background saving terminated with success")
            self.app.dirty -= self.dirty_before_bgsave
            self.app.last_save_s = int(time.time())
            self.lastbgsave_ok = True
        elif by_signal is None:
            logger.warning("Background saving error")
            self.lastbgsave_ok = False
        else:
            logger.warning("Background saving terminated by signal %d", by_signal)
            if by_signal != signal.SIGUSR1:
                self.lastbgsave_ok = False
        self.rdb_save_time_last = job_time

    # --- children ---

    def _fork(
        self,
        kind: str,
        temp_pattern: str,
        work: Callable[[], None],
        on_done: Callable[[bool, int | None], None],
    ) -> ChildJob | None:
        """Fork a child that runs `work` and exits 0 (or 1 if it raised)."""
        read_fd, write_fd = os.pipe()
        gc.freeze()
        fork_started = time.perf_counter_ns()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError as e:
            gc.unfreeze()
            os.close(read_fd)
            os.close(write_fd)
            logger.warning("Can't fork a background child: %s", e.strerror)
            return None
        if pid == 0:  # the child
            code = 1
            try:
                os.close(read_fd)
                _child_setup()
                work()
                code = 0
                os.write(write_fd, b"%d\n" % _private_dirty_bytes())
            except BaseException:
                with contextlib.suppress(BaseException):
                    logger.exception("background %s child failed", kind)
            finally:
                os._exit(code)
        self.latest_fork_usec = (time.perf_counter_ns() - fork_started) // 1000
        gc.unfreeze()
        os.close(write_fd)
        os.set_blocking(read_fd, False)
        job = ChildJob(kind, pid, time.time(), read_fd, temp_pattern.format(pid=pid), on_done)
        self.child = job
        self._start_polling()
        return job

    def _start_polling(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._poll_handle is None:
            self._poll_handle = loop.call_later(0.01, self._poll)

    def _poll(self) -> None:
        self._poll_handle = None
        self.reap()
        if self.child is not None:
            self._start_polling()

    def reap(self, *, block: bool = False) -> bool:
        """checkChildrenDone: collect a finished child; True if one was collected."""
        job = self.child
        if job is None:
            return False
        try:
            pid, status = os.waitpid(job.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            pid, status = job.pid, 1 << 8
        if pid == 0:
            return False
        try:
            info = os.read(job.info_fd, 64)
            job.cow_bytes = int(info.strip() or b"0")
        except (OSError, ValueError):
            pass
        os.close(job.info_fd)
        self.child = None
        by_signal = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        if job.kind == CHILD_AOF:
            self.aof_last_cow_size = job.cow_bytes
        elif job.kind == CHILD_RDB:
            self.rdb_last_cow_size = job.cow_bytes
        self._finished_job = job
        try:
            job.on_done(ok, by_signal)
        finally:
            _unlink_quietly(job.temp_path)
        self._after_child()
        return True

    def _job_seconds(self) -> int:
        job = self._finished_job
        return int(time.time() - job.started_s) if job is not None else -1

    def kill_child(self) -> None:
        """Stop the running child with SIGUSR1 (not an error) and wait for it."""
        job = self.child
        if job is None:
            return
        logger.info("Killing running %s child: %d", job.kind, job.pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(job.pid, signal.SIGUSR1)
        self.reap(block=True)

    def _after_child(self) -> None:
        """Start what waited for the child slot (Redis's serverCron order)."""
        if self.child is not None:
            return
        if self.aof_rewrite_scheduled:
            self.start_rewrite()
        if self.child is None and self.sync_waiters:
            self._start_sync_dump()
        if (
            self.child is None
            and self.bgsave_scheduled
            and (self.lastbgsave_ok or time.time() - self.lastbgsave_try_s > BGSAVE_RETRY_DELAY_S)
        ):
            self.bgsave_scheduled = False
            self.bgsave()

    # --- cron ---

    def cron(self) -> None:
        """Once per server tick: children, AOF writes and fsyncs, save points, rewrites."""
        self.reap()
        now = time.time()
        if self.writer is not None:
            self._aof_cron(now)
        if self.child is None:
            self._after_child()
        if self.child is None:
            self._check_save_points(now)
        if self.child is None and self.aof_state == AOF_ON:
            self._check_auto_rewrite()
        if self.child is None:
            self._check_backup(now)
        if self.sync_waiters and now - self._last_keepalive_s >= 1:
            self._last_keepalive_s = now
            for transfer in self.sync_waiters:
                transfer.keepalive()

    def _check_save_points(self, now: float) -> None:
        dirty = self.app.dirty
        if not dirty:
            return
        for seconds, changes in self.save_points():
            if (
                dirty >= changes
                and now - self.app.last_save_s > seconds
                and (now - self.lastbgsave_try_s > BGSAVE_RETRY_DELAY_S or self.lastbgsave_ok)
            ):
                logger.info("%d changes in %d seconds. Saving...", changes, seconds)
                self.bgsave()
                return

    # --- MISCONF ---

    def _misconf_guard(self, ctx: CommandContext, spec: Any) -> str | None:
        """writeCommandsDeniedByDiskError, for write commands (the primary's link is obeyed)."""
        if not spec.is_write or ctx.is_primary_link:
            return None
        if (
            not self.lastbgsave_ok
            and self.config["stop-writes-on-bgsave-error"]
            and self.save_points()
        ):
            return ERR_MISCONF
        if self.aof_state != AOF_OFF and self.aof_last_write_error is not None:
            return ERR_MISCONF_AOF % self.aof_last_write_error
        return None

    # --- loading ---

    async def load_at_startup(self) -> bool:
        """loadDataFromDisk, then open the AOF if it is on. False: refuse to start."""
        app = self.app
        started = time.monotonic()
        try:
            if self.config["appendonly"]:
                ok = await self._drive(self._load_aof_files())
                if ok:
                    self._open_aof_on_start()
            else:
                ok = await self._drive(self._load_dump())
        except (OSError, mf.ManifestError) as e:
            logger.error("Fatal error loading the dataset: %s", e)
            return False
        if not ok:
            return False
        app.dirty = 0
        keys = sum(db.size() for db in app.keyspace.dbs)
        if keys:
            logger.info("Done loading: %d keys in %.3f seconds", keys, time.monotonic() - started)
        # Long-lived data: keep the collector from walking it again (see DESIGN, Speed).
        gc.freeze()
        return True

    async def _drive(self, gen: Generator[int, None, bool]) -> bool:
        """Run a loading generator, letting the loop answer -LOADING between chunks."""
        app = self.app
        app.loading = True
        saved_feed = list(app.feed)
        app.feed.clear()
        keyspace = app.keyspace
        clock = keyspace.clock
        keyspace.clock = NEVER_EXPIRED
        self.loading_start_s = int(time.time())
        self.loading_loaded_bytes = 0
        last_yield = time.monotonic()
        try:
            while True:
                try:
                    self.loading_loaded_bytes = next(gen)
                except StopIteration as stop:
                    return bool(stop.value)
                now = time.monotonic()
                if now - last_yield > 0.005:
                    await asyncio.sleep(0)
                    last_yield = time.monotonic()
        finally:
            keyspace.clock = clock
            clock.tick()  # its coarse second went unticked while it was away
            app.feed[:0] = saved_feed
            app.reset_stream_db()
            app.loading = False
            self.loading_total_bytes = 0
            waiting, app.loading_ended = app.loading_ended, []
            loop = asyncio.get_running_loop()
            for resume in waiting:  # each on its own, after the load has returned
                loop.call_soon(resume)

    def _open_mapped(self, path: str) -> tuple[Any, Any]:
        f = open(path, "rb")  # noqa: SIM115  (closed by the caller with the mapping)
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            return f, b""
        return f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)

    def _load_dump(self) -> Generator[int, None, bool]:
        """rdbLoad of `dbfilename` if it exists (a missing file is an empty dataset)."""
        path = str(self.config["dbfilename"])
        if not os.path.exists(path):
            return True
        result = yield from self._load_rdb_path(path, now_ms=int(time.time() * 1000))
        return result is not None

    def _load_rdb_path(
        self, path: str, *, now_ms: int | None, allow_duplicates: bool = False
    ) -> Generator[int, None, RDBLoadResult | None]:
        f, data = self._open_mapped(path)
        try:
            self.loading_total_bytes = len(data)
            loader = RDBLoader(data, limits=self.limits(), origin=path)
            try:
                result = yield from loader.load(
                    self.app.keyspace,
                    now_ms=now_ms,
                    verify_checksum=bool(self.config["rdbchecksum"]),
                    allow_duplicates=allow_duplicates,
                )
            except RDBFormatError as e:
                logger.error("Fatal error loading the DB: %s", e)
                return None
            self._after_rdb_load(result)
            logger.info(
                "DB loaded from disk: %d keys loaded, %d expired",
                result.keys_loaded,
                result.keys_expired,
            )
            return result
        finally:
            if isinstance(data, mmap.mmap):
                data.close()
            f.close()

    def _after_rdb_load(self, result: RDBLoadResult) -> None:
        self.rdb_last_load_keys_loaded = result.keys_loaded
        self.rdb_last_load_keys_expired = result.keys_expired
        version = result.aux.get(b"redis-ver")
        if version:
            logger.info("Loaded an RDB produced by version %s", version.decode(errors="replace"))
        used = result.aux.get(b"used-mem")
        if used and used.isdigit():
            self.loading_rdb_used_mem = int(used)
        blob = result.aux.get(AUX_MCMETA)
        if blob:
            try:
                self.mcmeta_import(decode_mcmeta(blob))
            except RDBFormatError as e:
                logger.warning("ignoring damaged memcached metadata: %s", e)

    def _load_aof_files(self) -> Generator[int, None, bool]:
        """loadAppendOnlyFiles: legacy upgrade, then base and incr files in order."""
        manifest = mf.read_manifest(self.aof_dir, self.filename)
        self.manifest = manifest if manifest is not None else mf.Manifest()
        legacy = self.filename
        if os.path.isfile(legacy) and (
            manifest is None
            or self.manifest.is_empty()
            or (
                self.manifest.base is not None
                and not self.manifest.incrs
                and self.manifest.base.name == legacy
                and not os.path.exists(self.aof_path(legacy))
            )
        ):
            self._upgrade_legacy_aof()
        files = self.manifest.files()
        if not files:
            return True
        total = 0
        for info in files:
            path = self.aof_path(info.name)
            if not os.path.exists(path):
                logger.error("The AOF file %s listed in the manifest does not exist", info.name)
                return False
            total += os.path.getsize(path)
        if total == 0:
            return True
        self.loading_total_bytes = total
        ctx = CommandContext(self.app, 2**64 - 1)
        ctx.authenticated = True
        execute = _aof_executor(ctx)
        done_bytes = 0
        base_size = 0
        for number, info in enumerate(files, 1):
            last = number == len(files)
            path = self.aof_path(info.name)
            f, data = self._open_mapped(path)
            try:
                started = time.monotonic()
                gen = load_aof_data(
                    data,
                    info.name,
                    self.app.keyspace,
                    execute,
                    limits=self.limits(),
                    verify_checksum=bool(self.config["rdbchecksum"]),
                    on_mcmeta=self.mcmeta_apply,
                )
                try:
                    while True:
                        offset = next(gen)
                        yield done_bytes + offset
                except StopIteration as stop:
                    result = stop.value
                except (AOFError, RDBFormatError) as e:
                    logger.error("%s", e)
                    logger.error(
                        "Bad file format reading the append only file %s: make a backup of "
                        "your AOF file, then use python -m persistence.check_aof --fix "
                        "<filename.manifest>",
                        info.name,
                    )
                    return False
                size = len(data)
            finally:
                if isinstance(data, mmap.mmap):
                    data.close()
                f.close()
            if result.truncated_at is not None and not self._accept_truncation(
                info.name, path, result.truncated_at, last
            ):
                return False
            kind = "base" if info is self.manifest.base else "incr"
            if info is self.manifest.base:
                base_size = size
            logger.info(
                "DB loaded from %s file %s: %.3f seconds",
                kind,
                info.name,
                time.monotonic() - started,
            )
            done_bytes += size
        self.aof_rewrite_base_size = base_size
        return True

    def _accept_truncation(self, name: str, path: str, offset: int, last: bool) -> bool:
        """A torn tail: cut it if allowed (last file, aof-load-truncated), else refuse."""
        if not self.config["aof-load-truncated"]:
            logger.error(
                "Unexpected end of file reading the append only file %s (last valid command "
                "ends at offset %d). You can: 1) Make a backup of your AOF file, then use "
                "python -m persistence.check_aof --fix <filename.manifest>. 2) Alternatively "
                "you can set the 'aof-load-truncated' configuration option to yes and restart "
                "the server.",
                name,
                offset,
            )
            return False
        logger.warning("!!! Warning: short read while loading the AOF file %s!!!", name)
        logger.warning("!!! Truncating the AOF %s at offset %d !!!", name, offset)
        if not last:
            logger.error(
                "Fatal error: the truncated file %s is not the last file (offset %d)", name, offset
            )
            return False
        os.truncate(path, offset)
        logger.warning("AOF %s loaded anyway because aof-load-truncated is enabled", name)
        return True

    def _upgrade_legacy_aof(self) -> None:
        """aofUpgradePrepare: move a single-file AOF into the directory as its base."""
        os.makedirs(self.aof_dir, exist_ok=True)
        manifest = mf.Manifest()
        manifest.base = mf.AOFInfo(self.filename, 1, mf.BASE)
        manifest.base_seq = 1
        mf.write_manifest(self.aof_dir, self.filename, manifest)
        os.replace(self.filename, self.aof_path(self.filename))
        self.manifest = manifest
        logger.info(
            "Successfully migrated an old-style AOF file (%s) into the AOF directory (%s).",
            self.filename,
            self.aof_dir,
        )

    # --- AOF: opening, writing, syncing ---

    def _open_aof_on_start(self) -> None:
        """aofOpenIfNeededOnServerStart."""
        os.makedirs(self.aof_dir, exist_ok=True)
        manifest = self.manifest
        created_incr = not manifest.incrs
        if manifest.is_empty():
            base = manifest.new_base(self.filename, bool(self.config["aof-use-rdb-preamble"]))
            self._write_base_file(self.aof_path(base.name))
            logger.info("Creating AOF base file %s on server start", base.name)
        incr = manifest.last_incr(self.filename)
        self.writer = AOFWriter.open(self.aof_path(incr.name))
        mf.write_manifest(self.aof_dir, self.filename, manifest)
        self.aof_fixed_size = sum(
            os.path.getsize(self.aof_path(i.name)) for i in manifest.files() if i is not incr
        )
        if manifest.base is not None and not self.aof_rewrite_base_size:
            self.aof_rewrite_base_size = os.path.getsize(self.aof_path(manifest.base.name))
        verb = "Creating" if created_incr else "Opening"
        logger.info("%s AOF incr file %s on server start", verb, incr.name)
        self.aof_state = AOF_ON
        self._subscribe()

    def _subscribe(self) -> None:
        app = self.app
        self._timestamps = bool(self.config["aof-timestamp-enabled"])
        if self._feed not in app.feed:
            app.feed.append(self._feed)
        app.reply_gate = self._gate
        app.reset_stream_db()

    def _unsubscribe(self) -> None:
        app = self.app
        if self._feed in app.feed:
            app.feed.remove(self._feed)
        app.reply_gate = None

    def _feed(self, data: bytes) -> None:
        writer = self.writer
        if writer is None:
            return
        if self._timestamps:
            now_s = int(time.time())
            if now_s > self._aof_ts_s:
                self._aof_ts_s = now_s
                writer.append(b"#TS:%d\r\n" % now_s)
        writer.append(data)

    def _write_base_file(self, final_path: str, *, temp: str | None = None) -> int:
        """rewriteAppendOnlyFile: the dataset as a base file (RDB or commands), atomically."""
        temp = temp or f"temp-rewriteaof-{os.getpid()}.aof"
        preamble = bool(self.config["aof-use-rdb-preamble"])
        try:
            with open(temp, "wb", buffering=1 << 20) as f:
                size = write_base(
                    f,
                    self.app.keyspace,
                    rdb_preamble=preamble,
                    aux=self.rdb_aux(aof_base=True),
                    compress=bool(self.config["rdbcompression"]),
                    checksum=bool(self.config["rdbchecksum"]),
                    timestamp_s=int(time.time()) if self.config["aof-timestamp-enabled"] else None,
                    mcmeta=self.mcmeta_export() or None,
                )
                f.flush()
                os.fsync(f.fileno())
            if final_path != temp:
                os.replace(temp, final_path)
                _fsync_path(os.path.dirname(os.path.abspath(final_path)))
        except BaseException:
            _unlink_quietly(temp)
            raise
        return size

    def _executor_(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="aof-fsync"
            )
        return self._executor

    def _gate(self, transport: asyncio.Transport, payload: bytes, close: bool) -> bool:
        """App.reply_gate: True when the replies are held until an fsync completes."""
        writer = self.writer
        if writer is None:
            return False
        if self.config["appendfsync"] == ALWAYS:
            if not self.held and writer.synced_offset == writer.appended_offset:
                return False
            self.held.append((writer.appended_offset, transport, payload, close))
            self._kick()
            return True
        if not self.held and not writer.buf:
            return False  # nothing of this client's waits to be written
        # `everysec` and `no`: the reply leaves after the write(2) of what it waits for. That
        # write is done once for every client served in this loop iteration, at the next
        # iteration (as Redis writes the AOF once, in beforeSleep, before any reply).
        self.held.append((0, transport, payload, close))
        if not self._write_scheduled:
            self._write_scheduled = True
            try:
                asyncio.get_running_loop().call_soon(self._write_and_release)
            except RuntimeError:
                self._write_and_release()
        return True

    def _write_and_release(self) -> None:
        """The loop iteration's write(2) of the AOF buffer, then the replies that waited."""
        self._write_scheduled = False
        self._write_now()
        self._release_held()

    def _kick(self) -> None:
        """Ask for a write + fsync at the next loop iteration (unless one is running)."""
        if self._sync_scheduled or self._sync_future is not None:
            return
        self._sync_scheduled = True
        try:
            asyncio.get_running_loop().call_soon(self._start_sync)
        except RuntimeError:
            self._sync_scheduled = False
            self.flush_aof()

    def _start_sync(self) -> None:
        self._sync_scheduled = False
        writer = self.writer
        if writer is None or self._sync_future is not None:
            self._release_held()
            return
        data = writer.take()
        target = writer.appended_offset
        loop = asyncio.get_running_loop()

        def job() -> int:
            writer.write_all(data)
            os.fdatasync(writer.fd)
            return target

        future = self._executor_().submit(job)
        self._sync_future = future
        future.add_done_callback(
            lambda f: loop.call_soon_threadsafe(self._sync_done, writer, target, f)
        )

    def _sync_done(
        self, writer: AOFWriter, target: int, future: concurrent.futures.Future[int]
    ) -> None:
        if self._sync_future is future:
            self._sync_future = None
        error = future.exception()
        if error is not None:
            # Redis exits here: replies already computed must never claim durability.
            logger.critical(
                "Can't persist AOF for fsync error when the AOF fsync policy is 'always': %s. "
                "Exiting...",
                error,
            )
            os._exit(1)
        writer.synced_offset = max(writer.synced_offset, target)
        self._last_fsync_s = time.time()
        self._release_held()
        if writer is self.writer and (writer.buf or self.held):
            self._kick()

    def _release_held(self) -> None:
        writer = self.writer
        synced = writer.synced_offset if writer is not None else 2**63
        held = self.held
        while held and held[0][0] <= synced:
            _, transport, payload, close = held.popleft()
            if transport.is_closing():
                continue
            if payload:
                transport.write(payload)
            if close:
                transport.close()

    def _wait_sync(self) -> None:
        """Wait (blocking) for a running write + fsync job."""
        future = self._sync_future
        if future is not None:
            with contextlib.suppress(Exception):
                future.result()
            self._sync_future = None
            writer = self.writer
            if writer is not None and future.exception() is None:
                writer.synced_offset = max(writer.synced_offset, future.result())

    def _write_now(self) -> None:
        """write(2) the buffer in the loop thread (`everysec`, `no`, cron)."""
        writer = self.writer
        if writer is None or not writer.buf:
            return
        if self._sync_future is not None and not self._sync_future.done():
            self._wait_sync()
        try:
            writer.write_pending()
        except OSError as e:
            if self.aof_last_write_error is None:
                logger.warning("Error writing to the AOF file: %s", e.strerror)
            self.aof_last_write_error = e.strerror or str(e)
            return
        if self.aof_last_write_error is not None:
            logger.warning("AOF write error looks solved, Redis can write again.")
            self.aof_last_write_error = None

    def flush_aof(self) -> None:
        """flushAppendOnlyFile(force) + fsync, blocking: rotation, shutdown, stop."""
        writer = self.writer
        if writer is None:
            return
        self._wait_sync()
        self._write_now()
        with contextlib.suppress(OSError):
            writer.synced_offset = writer.fsync()
        self._release_held()

    def _aof_cron(self, now: float) -> None:
        writer = self.writer
        assert writer is not None
        policy = self.config["appendfsync"]
        if policy == ALWAYS:
            if writer.buf or self.held or writer.synced_offset < writer.appended_offset:
                self._kick()
            return
        self._write_now()
        if (
            policy == EVERYSEC
            and writer.written_offset > writer.synced_offset
            and now - self._last_fsync_s >= 1
        ):
            if self.config["no-appendfsync-on-rewrite"] and self.child is not None:
                return
            if self._sync_future is not None and not self._sync_future.done():
                self.aof_delayed_fsync += 1
                return
            self._last_fsync_s = now
            target_writer = writer
            future = self._executor_().submit(writer.fsync)

            def synced(f: concurrent.futures.Future[int]) -> None:
                if f.exception() is None:
                    target_writer.synced_offset = max(target_writer.synced_offset, f.result())

            future.add_done_callback(synced)

    @property
    def aof_current_size(self) -> int:
        return self.aof_fixed_size + (self.writer.size if self.writer is not None else 0)

    # --- AOF: rewrite ---

    def start_rewrite(self) -> bool:
        """rewriteAppendOnlyFileBackground: rotate the incr file and fork the base writer."""
        if self.child is not None:
            return False
        try:
            os.makedirs(self.aof_dir, exist_ok=True)
        except OSError as e:
            logger.warning("Can't open or create append-only dir %s: %s", self.aof_dir, e)
            self.aof_lastbgrewrite_ok = False
            return False
        self.app.reset_stream_db()
        self.flush_aof()
        if not self._open_new_incr():
            self.aof_lastbgrewrite_ok = False
            return False
        self.aof_rewrites += 1

        def work() -> None:
            self._write_base_file(f"temp-rewriteaof-bg-{os.getpid()}.aof")
            logger.info("Successfully created the temporary AOF base file")

        job = self._fork(CHILD_AOF, "temp-rewriteaof-bg-{pid}.aof", work, self._rewrite_done)
        if job is None:
            self.aof_lastbgrewrite_ok = False
            return False
        logger.info("Background append only file rewriting started by pid %d", job.pid)
        self.aof_rewrite_scheduled = False
        return True

    def _open_new_incr(self) -> bool:
        """openNewIncrAofForAppend."""
        if self.aof_state == AOF_OFF:
            return True
        temp_manifest: mf.Manifest | None = None
        if self.aof_state == AOF_WAIT_REWRITE:
            name = mf.temp_incr_name(self.filename)
        else:
            temp_manifest = self.manifest.copy()
            name = temp_manifest.new_incr(self.filename).name
        try:
            writer = AOFWriter.open(self.aof_path(name), truncate=True)
        except OSError as e:
            logger.warning("Can't open the append-only file %s: %s", name, e.strerror)
            return False
        if temp_manifest is not None:
            try:
                mf.write_manifest(self.aof_dir, self.filename, temp_manifest)
            except OSError as e:
                logger.warning("Can't persist the AOF manifest: %s", e)
                writer.close()
                return False
        logger.info("Creating AOF incr file %s on background rewrite", name)
        old = self.writer
        if old is not None:
            self.aof_fixed_size += old.size
            self._executor_().submit(_fsync_and_close, old)
        self.writer = writer
        if temp_manifest is not None:
            self.manifest = temp_manifest
        self._subscribe()
        return True

    def _rewrite_done(self, ok: bool, by_signal: int | None) -> None:
        """backgroundRewriteDoneHandler."""
        job = self._finished_job
        assert job is not None
        temp = job.temp_path
        self.aof_rewrite_time_last = self._job_seconds()
        if ok:
            logger.info("Background AOF rewrite terminated with success")
            if not self._install_rewrite(temp):
                self.aof_lastbgrewrite_ok = False
                self.aof_rewrite_failures += 1
        elif by_signal is None:
            logger.warning("Background AOF rewrite terminated with error")
            self.aof_lastbgrewrite_ok = False
            self.aof_rewrite_failures += 1
        else:
            logger.warning("Background AOF rewrite terminated by signal %d", by_signal)
            if by_signal != signal.SIGUSR1:
                self.aof_lastbgrewrite_ok = False
                self.aof_rewrite_failures += 1
        if self.aof_state == AOF_WAIT_REWRITE:
            # Not switched on yet: drop what was gathered and try again (Redis's cleanup).
            self._discard_wait_rewrite_writer()
            self.aof_rewrite_scheduled = True

    def _install_rewrite(self, temp: str) -> bool:
        manifest = self.manifest.copy()
        base = manifest.new_base(self.filename, bool(self.config["aof-use-rdb-preamble"]))
        base_path = self.aof_path(base.name)
        try:
            os.replace(temp, base_path)
        except OSError as e:
            logger.warning("Error trying to rename the temporary AOF base file: %s", e)
            return False
        writer = self.writer
        if self.aof_state == AOF_WAIT_REWRITE and writer is not None:
            incr = manifest.new_incr(self.filename)
            try:
                os.replace(writer.path, self.aof_path(incr.name))
            except OSError as e:
                logger.warning("Error trying to rename the temporary AOF incr file: %s", e)
                _unlink_quietly(base_path)
                return False
            writer.path = self.aof_path(incr.name)
            writer.name = incr.name
        manifest.mark_rewritten_incrs_as_history(keep_last=writer is not None)
        try:
            mf.write_manifest(self.aof_dir, self.filename, manifest)
        except OSError as e:
            logger.warning("Can't persist the AOF manifest: %s", e)
            _unlink_quietly(base_path)
            return False
        self.manifest = manifest
        base_size = os.path.getsize(base_path)
        self.aof_fixed_size = base_size
        self.aof_rewrite_base_size = self.aof_current_size
        for info in manifest.history:
            logger.info("Removing the history file %s", info.name)
            _unlink_quietly(self.aof_path(info.name))
        manifest.history.clear()
        with contextlib.suppress(OSError):
            mf.write_manifest(self.aof_dir, self.filename, manifest)
        self.aof_lastbgrewrite_ok = True
        self.aof_rewrite_failures = 0
        logger.info("Background AOF rewrite finished successfully")
        if self.aof_state == AOF_WAIT_REWRITE:
            self.aof_state = AOF_ON
        return True

    def _discard_wait_rewrite_writer(self) -> None:
        writer = self.writer
        if writer is None:
            return
        self._wait_sync()
        self.writer = None
        # The AOF was not on yet, so nothing durable was promised: the held replies go out.
        self._release_held()
        writer.close()
        _unlink_quietly(writer.path)

    def _check_auto_rewrite(self) -> None:
        perc = int(self.config["auto-aof-rewrite-percentage"])
        current = self.aof_current_size
        if not perc or current <= int(self.config["auto-aof-rewrite-min-size"]):
            return
        base = self.aof_rewrite_base_size or 1
        growth = current * 100 // base - 100
        if growth >= perc and self.aof_rewrite_failures < 3:
            logger.info("Starting automatic rewriting of AOF on %d%% growth", growth)
            self.start_rewrite()

    def request_rewrite(self) -> str:
        """BGREWRITEAOF: "started", "scheduled", "in_progress" or "error"."""
        if self.child is not None and self.child.kind == CHILD_AOF:
            return "in_progress"
        if self.child is not None:
            self.aof_rewrite_scheduled = True
            self.aof_rewrite_failures = 0
            return "scheduled"
        # With the AOF off Redis rewrites too: a new base, no incr file.
        return "started" if self.start_rewrite() else "error"

    # --- AOF: switching on and off at run time ---

    def start_aof(self) -> bool:
        """startAppendOnly (CONFIG SET appendonly yes): a base is written first."""
        if self.aof_state != AOF_OFF:
            return True
        self.aof_state = AOF_WAIT_REWRITE
        if self.child is not None and self.child.kind != CHILD_AOF:
            self.aof_rewrite_scheduled = True
            logger.warning(
                "AOF was enabled but there is already another background operation. An AOF "
                "background was scheduled to start when possible."
            )
            return True
        if self.child is not None:
            self.kill_child()
        try:
            self.manifest = mf.read_manifest(self.aof_dir, self.filename) or mf.Manifest()
        except (OSError, mf.ManifestError) as e:
            logger.warning("Can't read the AOF manifest: %s", e)
            self.aof_state = AOF_OFF
            return False
        if not self.start_rewrite():
            self.aof_state = AOF_OFF
            logger.warning(
                "Redis needs to enable the AOF but can't trigger a background AOF rewrite "
                "operation."
            )
            return False
        self.aof_last_write_error = None
        return True

    def stop_aof(self) -> None:
        """stopAppendOnly (CONFIG SET appendonly no)."""
        if self.aof_state == AOF_OFF:
            return
        self.flush_aof()
        if self.child is not None and self.child.kind == CHILD_AOF:
            self.kill_child()
        writer = self.writer
        self.writer = None
        if writer is not None:
            writer.close()
            if self.aof_state == AOF_WAIT_REWRITE:
                _unlink_quietly(writer.path)
        self.aof_state = AOF_OFF
        self.aof_rewrite_scheduled = False
        self.aof_fixed_size = 0
        self._unsubscribe()
        self._release_held()

    def _config_changed(self, name: str, value: Any) -> None:
        if name == "aof-timestamp-enabled":
            self._timestamps = bool(value)
        elif name == "appendonly":
            if value and self.aof_state == AOF_OFF and self._started:
                self.start_aof()
            elif not value and self.aof_state != AOF_OFF:
                self.stop_aof()
        elif name == "dir" and self._started:
            try:
                os.chdir(str(value))
            except OSError as e:
                logger.warning("Can't chdir to '%s': %s", value, e.strerror)

    _started = False

    def mark_started(self) -> None:
        """Run-time config changes apply from now on (not while argv is parsed)."""
        self._started = True

    # --- shutdown ---

    def should_save_on_shutdown(self, flags: frozenset[str]) -> bool:
        """prepareForShutdown's rule: save when save points exist and NOSAVE was not given,
        or when SAVE was given."""
        if "nosave" in flags:
            return False
        return "save" in flags or bool(self.save_points())

    def prepare_shutdown(self, flags: frozenset[str]) -> bool:
        """The steps that may refuse: stop children, flush the AOF, the final save.
        False means the save failed (SHUTDOWN answers an error unless FORCE)."""
        self._shutdown_prepared = True
        if self.child is not None:
            self.kill_child()
        if self.aof_state != AOF_OFF:
            self.flush_aof()
        if self.should_save_on_shutdown(flags):
            logger.info("Saving the final RDB snapshot before exiting.")
            if not self.save():
                logger.warning("Error trying to save the DB, can't exit.")
                return False
        return True

    def on_shutdown(self) -> None:
        """App.shutdown_hooks: prepare (if SHUTDOWN did not), then close the AOF."""
        if not self._shutdown_prepared:
            flags: frozenset[str] = getattr(self.app, "shutdown_flags", frozenset())
            self.prepare_shutdown(frozenset(flags))
        if self.writer is not None:
            self.flush_aof()
            self.writer.close()
            self.writer = None
        for transfer in list(self.sync_waiters):
            transfer.abort()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    # --- DEBUG RELOAD ---

    def debug_reload(self, *, save: bool, flush: bool, merge: bool) -> str | None:
        """DEBUG RELOAD: save, empty, load `dbfilename` again. Returns an error text or None."""
        if save and not self.save():
            return "ERR"
        if flush:
            for db in self.app.keyspace.dbs:
                db.flush()
        path = str(self.config["dbfilename"])
        if not os.path.exists(path):
            return "ERR Error trying to load the RDB dump"
        result = run_to_end(
            self._load_rdb_path(path, now_ms=int(time.time() * 1000), allow_duplicates=merge)
        )
        if result is None:
            return "ERR Error trying to load the RDB dump"
        logger.warning("DB reloaded by DEBUG RELOAD")
        return None

    # --- SYNC (rdb-only transfers; replication extends this) ---

    def request_sync(self, transfer: SyncTransfer) -> None:
        """Queue a client for the next snapshot made for transfers."""
        self.sync_waiters.append(transfer)
        if self.child is None:
            self._start_sync_dump()

    def _start_sync_dump(self) -> None:
        waiters = self.sync_waiters
        self.sync_waiters = []
        holder: dict[str, str] = {}

        def work() -> None:
            self.write_rdb_file(f"temp-sync-{os.getpid()}.rdb.done", tag=f"sync-{os.getpid()}")

        def done(ok: bool, by_signal: int | None) -> None:
            path = holder["path"]
            for transfer in waiters:
                if ok:
                    transfer.send_file(path)
                else:
                    transfer.abort()
            # Every transfer opened the file; it can go now.
            _unlink_quietly(path)

        # The snapshot is the dataset as of this instant: each transfer learns it now, before
        # anything else can change (replication starts queueing the stream from here).
        for transfer in waiters:
            if transfer.on_snapshot is not None:
                transfer.on_snapshot()
        job = self._fork(CHILD_SYNC, "temp-sync-{pid}.rdb", work, done)
        if job is None:
            for transfer in waiters:
                transfer.abort()
            return
        holder["path"] = f"temp-sync-{job.pid}.rdb.done"
        logger.info("Starting BGSAVE for SYNC with target: disk (pid %d)", job.pid)

    # --- replication: snapshots in memory, loading a primary's snapshot ---

    def snapshot_bytes(self, *, with_data: bool = True) -> bytes:
        """The dataset as an RDB in memory (a full resync of a small dataset; without data:
        the empty RDB a filtered `rdb-filter-only` transfer asks for)."""
        out = io.BytesIO()
        if with_data:
            write_rdb(
                out,
                self.app.keyspace,
                self.rdb_aux(),
                compress=bool(self.config["rdbcompression"]),
                checksum=bool(self.config["rdbchecksum"]),
                extra_aux=self._mcmeta_aux(),
            )
        else:
            writer = RDBWriter(out, compress=False, checksum=bool(self.config["rdbchecksum"]))
            writer.header(self.rdb_aux())
            writer.finish()
        return out.getvalue()

    async def load_replica_snapshot(self, data: bytes | bytearray) -> RDBLoadResult | None:
        """readSyncBulkPayload's load: empty the dataset and load the primary's RDB, keys with
        passed deadlines included (the primary will send their DELs). None: unusable data."""
        holder: list[RDBLoadResult] = []

        def work() -> Generator[int, None, bool]:
            for db in self.app.keyspace.dbs:
                db.flush()
            self.loading_total_bytes = len(data)
            loader = RDBLoader(data, limits=self.limits(), origin="the MASTER RDB")
            try:
                result = yield from loader.load(
                    self.app.keyspace,
                    now_ms=None,
                    verify_checksum=bool(self.config["rdbchecksum"]),
                )
            except RDBFormatError as e:
                logger.warning("Failed trying to load the MASTER synchronization DB: %s", e)
                return False
            self._after_rdb_load(result)
            holder.append(result)
            return True

        ok = await self._drive(work())
        return holder[0] if ok and holder else None

    # --- scheduled backups ---

    def _check_backup(self, now: float) -> None:
        interval = int(self.config["backup-interval-seconds"])
        if interval <= 0 or now - self.last_backup_s < interval:
            return
        self.last_backup_s = now
        self.start_backup()

    def start_backup(self) -> bool:
        """Fork a child writing `backup-dir/dump-<time>.rdb`, then prune old backups."""
        if self.child is not None:
            return False
        directory = str(self.config["backup-dir"])
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as e:
            logger.warning("Can't create backup dir %s: %s", directory, e.strerror)
            return False
        path = os.path.join(directory, backup_file_name())

        def work() -> None:
            self.write_rdb_file(path, tag=f"backup-{os.getpid()}")

        def done(ok: bool, by_signal: int | None) -> None:
            if ok:
                logger.info("Backup written to %s", path)
                prune_backups(directory, int(self.config["backup-retention"]))
            else:
                logger.warning("Backup to %s failed", path)

        job = self._fork(CHILD_BACKUP, os.path.join(directory, "temp-backup-{pid}.rdb"), work, done)
        return job is not None


def prune_backups(directory: str, keep: int) -> list[str]:
    """Delete the oldest `dump-*.rdb` files beyond `keep`; return the names removed."""
    names = sorted(n for n in os.listdir(directory) if n.startswith("dump-") and n.endswith(".rdb"))
    removed = names[: max(len(names) - max(keep, 1), 0)]
    for name in removed:
        _unlink_quietly(os.path.join(directory, name))
    return removed


def _fsync_and_close(writer: AOFWriter) -> None:
    with contextlib.suppress(OSError):
        os.fdatasync(writer.fd)
    writer.close()


def _child_setup() -> None:
    """In a forked child: default signal handling, no collector walks over shared objects."""
    gc.disable()
    with contextlib.suppress(ValueError, OSError):
        signal.set_wakeup_fd(-1)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
        signal.signal(signum, signal.SIG_DFL)


def _used_memory(app: App) -> int:
    memory = getattr(app, "memory", None)
    used = getattr(memory, "used_memory", None)
    if callable(used):
        with contextlib.suppress(Exception):
            return int(used())
    return 0


def _aof_executor(ctx: CommandContext) -> Callable[[list[bytes]], None]:
    """Run one AOF command through dispatch's `call` with the loading client."""
    from server.dispatch import call, resolve

    def execute(argv: list[bytes]) -> None:
        resolved = resolve(argv)
        if isinstance(resolved, str):
            if resolved.startswith("ERR unknown command"):
                raise AOFUnknownCommandError(resolved)
            logger.warning("skipping an AOF command refused by the command table: %s", resolved)
            return
        call(ctx, resolved, argv)

    return execute


class SyncTransfer:
    """One client waiting for a snapshot over SYNC: `$<len>\\r\\n` then the RDB bytes.

    The transfer writes in chunks while the transport's buffer stays under a limit, so a slow
    reader does not make us hold the whole file in memory. `rdb_only` clients are closed
    after the file, as `redis-cli --rdb` expects; others go to `after` (replication's hook:
    stream the write stream from here), or are closed when there is none.
    """

    CHUNK_BYTES: Final = 256 * 1024
    HIGH_WATER_BYTES: Final = 4 * 1024 * 1024

    def __init__(
        self,
        ctx: CommandContext,
        transport: asyncio.Transport,
        *,
        rdb_only: bool,
        after: Callable[[CommandContext], None] | None = None,
        on_snapshot: Callable[[], None] | None = None,
        on_sending: Callable[[], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self.transport = transport
        self.rdb_only = rdb_only
        self.after = after
        # Replication's hooks: the snapshot is being taken (just before the fork), and the
        # file is about to be written.
        self.on_snapshot = on_snapshot
        self.on_sending = on_sending
        self._file: Any = None
        self._remaining = 0

    def keepalive(self) -> None:
        """A newline while the snapshot is being made (replicationCron does the same)."""
        if not self.transport.is_closing():
            self.transport.write(b"\n")

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.transport.close()

    def send_file(self, path: str) -> None:
        try:
            self._file = open(path, "rb")  # noqa: SIM115  (closed when the pump ends)
        except OSError:
            self.abort()
            return
        self._remaining = os.fstat(self._file.fileno()).st_size
        if self.transport.is_closing():
            self.abort()
            return
        if self.on_sending is not None:
            self.on_sending()
        self.transport.write(b"$%d\r\n" % self._remaining)
        self._pump()

    def _pump(self) -> None:
        transport = self.transport
        f = self._file
        if f is None:
            return
        if transport.is_closing():
            self.abort()
            return
        while self._remaining and transport.get_write_buffer_size() < self.HIGH_WATER_BYTES:
            chunk = f.read(min(self.CHUNK_BYTES, self._remaining))
            if not chunk:
                self.abort()
                return
            self._remaining -= len(chunk)
            transport.write(chunk)
        if self._remaining:
            asyncio.get_running_loop().call_later(0.002, self._pump)
            return
        f.close()
        self._file = None
        logger.info("Synchronization with replica %s succeeded", self.ctx.addr)
        if self.rdb_only or self.after is None:
            transport.close()
        else:
            self.after(self.ctx)


def persistence_info(app: App) -> list[tuple[str, object]]:
    """INFO persistence, Redis 7.0's fields in Redis's order."""
    d = durability_of(app)
    now = time.time()
    child = d.child
    aof_on = d.aof_state != AOF_OFF
    fields: list[tuple[str, object]] = [
        ("loading", int(app.loading)),
        ("async_loading", 0),
        ("current_cow_peak", 0),
        ("current_cow_size", 0),
        ("current_cow_size_age", 0),
        ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", 0),
        ("current_save_keys_total", 0),
        ("rdb_changes_since_last_save", app.dirty),
        ("rdb_bgsave_in_progress", int(child is not None and child.kind == CHILD_RDB)),
        ("rdb_last_save_time", app.last_save_s),
        ("rdb_last_bgsave_status", "ok" if d.lastbgsave_ok else "err"),
        ("rdb_last_bgsave_time_sec", d.rdb_save_time_last),
        (
            "rdb_current_bgsave_time_sec",
            int(now - child.started_s) if child is not None and child.kind == CHILD_RDB else -1,
        ),
        ("rdb_saves", d.rdb_saves),
        ("rdb_last_cow_size", d.rdb_last_cow_size),
        ("rdb_last_load_keys_expired", d.rdb_last_load_keys_expired),
        ("rdb_last_load_keys_loaded", d.rdb_last_load_keys_loaded),
        ("aof_enabled", int(aof_on)),
        ("aof_rewrite_in_progress", int(child is not None and child.kind == CHILD_AOF)),
        ("aof_rewrite_scheduled", int(d.aof_rewrite_scheduled)),
        ("aof_last_rewrite_time_sec", d.aof_rewrite_time_last),
        (
            "aof_current_rewrite_time_sec",
            int(now - child.started_s) if child is not None and child.kind == CHILD_AOF else -1,
        ),
        ("aof_last_bgrewrite_status", "ok" if d.aof_lastbgrewrite_ok else "err"),
        ("aof_rewrites", d.aof_rewrites),
        ("aof_rewrites_consecutive_failures", d.aof_rewrite_failures),
        ("aof_last_write_status", "ok" if d.aof_last_write_error is None else "err"),
        ("aof_last_cow_size", d.aof_last_cow_size),
        ("module_fork_in_progress", 0),
        ("module_fork_last_cow_size", 0),
    ]
    if aof_on:
        writer = d.writer
        fields += [
            ("aof_current_size", d.aof_current_size),
            ("aof_base_size", d.aof_rewrite_base_size),
            ("aof_pending_rewrite", int(d.aof_rewrite_scheduled)),
            ("aof_buffer_length", len(writer.buf) if writer is not None else 0),
            ("aof_pending_bio_fsync", int(d._sync_future is not None)),
            ("aof_delayed_fsync", d.aof_delayed_fsync),
        ]
    if app.loading:
        total = d.loading_total_bytes
        loaded = d.loading_loaded_bytes
        perc = loaded / total * 100 if total else 0.0
        elapsed = int(now) - d.loading_start_s
        remaining = max(total - loaded, 1)
        eta = 1 if elapsed == 0 else elapsed * remaining // (loaded + 1)
        fields += [
            ("loading_start_time", d.loading_start_s),
            ("loading_total_bytes", total),
            ("loading_rdb_used_mem", d.loading_rdb_used_mem),
            ("loading_loaded_bytes", loaded),
            ("loading_loaded_perc", f"{perc:.2f}"),
            ("loading_eta_seconds", eta),
        ]
    return fields


# INFO persistence reports this module's state.
INFO_PROVIDERS["persistence"] = persistence_info
