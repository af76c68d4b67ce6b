"""What ROLE and INFO show about replication (Redis 7.0's field names, order and values).

Presentation only: everything shown is read from the server's `Replication`. INFO's
replication section is replaced as a whole; in the stats and memory sections only the
replication fields are (server/info.py's INFO_PROVIDERS and INFO_FIELDS).
"""

from __future__ import annotations

import time
from typing import Any

from replication.primary import ReplicaState
from server.app import App
from server.info import INFO_FIELDS, INFO_PROVIDERS, Lines
from server.replication import Replication, replication_of


def role_reply(repl: Replication) -> list[Any]:
    """ROLE: ["master", offset, [[ip, port, offset], ...]] or ["slave", host, port,
    state, offset]."""
    if not repl.app.is_replica:
        replicas = [
            [r.ip.encode(), b"%d" % r.listening_port, b"%d" % r.ack_offset]
            for r in repl.primary.online()
        ]
        return [b"master", repl.state.master_repl_offset, replicas]
    link = repl.link
    state = link.role_state if link is not None else "connect"
    offset = link.offset if link is not None and link.up else -1
    return [
        b"slave",
        (repl.primary_host or "").encode(),
        repl.primary_port,
        state.encode(),
        offset,
    ]


def info_lines(repl: Replication) -> Lines:
    """INFO replication, field by field in Redis 7.0's order."""
    app = repl.app
    config = repl.config
    state = repl.state
    lines: Lines = [("role", "slave" if app.is_replica else "master")]
    if app.is_replica:
        link = repl.link
        up = link is not None and link.up
        cached = repl.side.cached
        if up and link is not None:
            offset, read_offset = link.offset, link.read_offset
        elif cached is not None:
            offset = read_offset = cached.offset
        else:
            offset = read_offset = 1
        last_io = int(time.monotonic() - link.last_io_monotonic) if up and link else -1
        lines += [
            ("master_host", repl.primary_host),
            ("master_port", repl.primary_port),
            ("master_link_status", "up" if up else "down"),
            ("master_last_io_seconds_ago", last_io),
            ("master_sync_in_progress", int(link is not None and link.in_transfer)),
            ("slave_read_repl_offset", read_offset),
            ("slave_repl_offset", offset),
        ]
        if link is not None and link.in_transfer and link.handshake is not None:
            hs = link.handshake
            total = hs.transfer_size
            perc = hs.transfer_read / total * 100 if total > 0 else 0.0
            lines += [
                ("master_sync_total_bytes", total),
                ("master_sync_read_bytes", hs.transfer_read),
                ("master_sync_left_bytes", total - hs.transfer_read),
                ("master_sync_perc", f"{perc:.2f}"),
                (
                    "master_sync_last_io_seconds_ago",
                    int(time.monotonic() - link.last_io_monotonic),
                ),
            ]
        if not up:
            since = repl.side.down_since_s
            lines.append(
                ("master_link_down_since_seconds", int(time.time()) - since if since else -1)
            )
        lines += [
            ("slave_priority", config["replica-priority"]),
            ("slave_read_only", int(bool(config["replica-read-only"]))),
            ("replica_announced", int(bool(config["replica-announced"]))),
        ]
    primary = repl.primary
    lines.append(("connected_slaves", len(primary.replicas)))
    if config["min-replicas-to-write"] and config["min-replicas-max-lag"]:
        lines.append(("min_slaves_good_slaves", repl.good_replicas))
    now_s = int(time.time())
    for i, r in enumerate(primary.replicas.values()):
        lag = now_s - r.ack_time_s if r.state is ReplicaState.ONLINE else 0
        lines.append(
            (
                f"slave{i}",
                f"ip={r.ip},port={r.listening_port},state={r.state.label},"
                f"offset={r.ack_offset},lag={lag}",
            )
        )
    backlog = state.backlog
    lines += [
        ("master_failover_state", "no-failover"),
        ("master_replid", state.replid),
        ("master_replid2", state.replid2),
        ("master_repl_offset", state.master_repl_offset),
        ("second_repl_offset", state.second_replid_offset),
        ("repl_backlog_active", int(backlog is not None)),
        ("repl_backlog_size", state.backlog_size),
        ("repl_backlog_first_byte_offset", backlog.first_offset if backlog else 0),
        ("repl_backlog_histlen", backlog.histlen if backlog else 0),
    ]
    return lines


def stats_fields(repl: Replication) -> dict[str, object]:
    app = repl.app
    primary = repl.primary
    repl_in = repl.link.input_bytes if repl.link is not None else 0
    return {
        "total_net_input_bytes": app.net_input_bytes + repl_in,
        "total_net_repl_input_bytes": repl_in,
        "total_net_repl_output_bytes": primary.output_bytes,
        "sync_full": primary.sync_full,
        "sync_partial_ok": primary.sync_partial_ok,
        "sync_partial_err": primary.sync_partial_err,
    }


def memory_fields(repl: Replication) -> dict[str, object]:
    backlog = repl.state.backlog
    held = backlog.allocated_bytes if backlog is not None else 0
    pending = sum(r.pending_bytes for r in repl.primary.replicas.values())
    return {"mem_replication_backlog": held, "mem_total_replication_buffers": held + pending}


def _info_replication(app: App) -> Lines:
    return info_lines(replication_of(app))


def _stats(app: App) -> dict[str, object]:
    return stats_fields(replication_of(app))


def _memory(app: App) -> dict[str, object]:
    return memory_fields(replication_of(app))


INFO_PROVIDERS["replication"] = _info_replication
INFO_FIELDS.setdefault("stats", []).append(_stats)
INFO_FIELDS.setdefault("memory", []).append(_memory)
