"""Sentinel mode's commands: SENTINEL <subcommand>, and INFO, ROLE and PUBLISH as a monitor
answers them.

These are not registered in the command table at import time: they exist only in sentinel
mode (Redis's ONLY_SENTINEL flag), and INFO / ROLE / PUBLISH replace the normal ones there.
`sentinel_table` builds the monitor's whole table: the normal commands Redis marks
`sentinel` (PING, AUTH, HELLO, CLIENT, COMMAND, SUBSCRIBE, SHUTDOWN, ...) plus these; every
other command is unknown, with the usual unknown-command error. server/sentinel.py installs it.

Replies follow sentinel.c: instance descriptions are maps (flat field/value arrays in RESP2)
whose values are all bulk strings, numbers included.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from protocol.numbers import parse_int
from protocol.resp import NULL_ARRAY, OK, SimpleString
from replication.failover import (
    QUORUM_NO_AUTH,
    QUORUM_NO_QUORUM,
    QUORUM_OK,
    RESET_GENERATE_EVENT,
    SIMFAILURE_CRASH_AFTER_ELECTION,
    SIMFAILURE_CRASH_AFTER_PROMOTION,
    Monitor,
)
from replication.instances import (
    DEBUG_PERIODS,
    HELLO_CHANNEL,
    Instance,
    InstanceError,
    Kind,
    Level,
    Master,
    PeerSentinel,
    Replica,
    flags_text,
)
from server.commands import meta
from server.commands.admin import help_reply
from server.commands.table import COMMANDS, CommandSpec, Flag, Reply, replace_table
from server.errors import (
    ERR_NO_SUCH_MASTER,
    ERR_NOT_INTEGER,
    ERR_SENTINEL_CONFIG_FORM,
    ERR_SENTINEL_CONFIG_SET_OPTION,
    ERR_SENTINEL_CONFIG_SET_VALUE,
    ERR_SENTINEL_DEBUG_INVALID,
    ERR_SENTINEL_DEBUG_UNKNOWN,
    ERR_SENTINEL_INPROG,
    ERR_SENTINEL_INVALID_IP,
    ERR_SENTINEL_INVALID_PORT,
    ERR_SENTINEL_INVALID_QUORUM,
    ERR_SENTINEL_NOGOODSLAVE,
    ERR_SENTINEL_NOQUORUM,
    ERR_SENTINEL_NOQUORUM_MAJORITY,
    ERR_SENTINEL_NOQUORUM_QUORUM,
    ERR_SENTINEL_NOTIFICATION_SCRIPT,
    ERR_SENTINEL_ONLY_HELLO,
    ERR_SENTINEL_QUORUM_MIN,
    ERR_SENTINEL_RECONFIG_SCRIPT,
    ERR_SENTINEL_SAVE_CONFIG,
    ERR_SENTINEL_SCRIPTS_DENIED,
    ERR_SENTINEL_SET_INVALID,
    ERR_SENTINEL_SET_UNKNOWN,
    ERR_SENTINEL_SIMULATE,
    CommandError,
)
from server.info import info_text
from storage.glob import stringmatch

if TYPE_CHECKING:
    from server.context import CommandContext

# The monitor of the App a command runs in (server/sentinel.py sets it).
MonitorOf = Callable[["CommandContext"], Monitor]
_monitor_of: MonitorOf | None = None


def set_monitor_lookup(lookup: MonitorOf) -> None:
    global _monitor_of
    _monitor_of = lookup


def _monitor(ctx: CommandContext) -> Monitor:
    assert _monitor_of is not None, "sentinel mode is not set up"
    return _monitor_of(ctx)


_HELP: Final = (
    "CKQUORUM <master-name>",
    "    Check if the current Sentinel configuration is able to reach the quorum",
    "    needed to failover a master and the majority needed to authorize the",
    "    failover.",
    "CONFIG SET <param> <value>",
    "    Set a global Sentinel configuration parameter.",
    "CONFIG GET <param>",
    "    Get global Sentinel configuration parameter.",
    "DEBUG [<param> <value> ...]",
    "    Show a list of configurable time parameters and their values (milliseconds).",
    "    Or update current configurable parameters values (one or more).",
    "GET-MASTER-ADDR-BY-NAME <master-name>",
    "    Return the ip and port number of the master with that name.",
    "FAILOVER <master-name>",
    "    Manually failover a master node without asking for agreement from other",
    "    Sentinels",
    "FLUSHCONFIG",
    "    Force Sentinel to rewrite its configuration on disk, including the current",
    "    Sentinel state.",
    "INFO-CACHE <master-name>",
    "    Return last cached INFO output from masters and all its replicas.",
    "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
    "    Check if the master specified by ip:port is down from current Sentinel's",
    "    point of view.",
    "MASTER <master-name>",
    "    Show the state and info of the specified master.",
    "MASTERS",
    "    Show a list of monitored masters and their state.",
    "MONITOR <name> <ip> <port> <quorum>",
    "    Start monitoring a new master with the specified name, ip, port and quorum.",
    "MYID",
    "    Return the ID of the Sentinel instance.",
    "PENDING-SCRIPTS",
    "    Get pending scripts information.",
    "REMOVE <master-name>",
    "    Remove master from Sentinel's monitor list.",
    "REPLICAS <master-name>",
    "    Show a list of replicas for this master and their state.",
    "RESET <pattern>",
    "    Reset masters for specific master name matching this pattern.",
    "SENTINELS <master-name>",
    "    Show a list of Sentinel instances for this master and their state.",
    "SET <master-name> <option> <value> [<option> <value> ...]",
    "    Set configuration parameters for certain masters.",
    "SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
    "    Simulate a Sentinel crash.",
)


def _text(arg: bytes) -> str:
    return arg.decode("utf-8", "surrogateescape")


def _num(value: int) -> bytes:
    return str(value).encode()


def _long_long(arg: bytes) -> int | None:
    """getLongLongFromObject: an int64, or None."""
    return parse_int(arg)


def _master_or_error(monitor: Monitor, name: bytes) -> Master:
    master = monitor.masters.get(_text(name))
    if master is None:
        raise CommandError(ERR_NO_SUCH_MASTER)
    return master


def _flush_and_reply(monitor: Monitor) -> Reply:
    if not monitor.flush_config():
        raise CommandError(ERR_SENTINEL_SAVE_CONFIG)
    return OK


# --- instance descriptions ---


def describe(monitor: Monitor, ri: Instance) -> dict[bytes, bytes]:
    """addReplySentinelRedisInstance: the fields, in Sentinel's order, for one instance."""
    now = monitor.now()
    link = ri.link
    out: dict[bytes, bytes] = {
        b"name": ri.name.encode(),
        b"ip": monitor.shown(ri.addr).encode(),
        b"port": _num(ri.addr.port),
        b"runid": (ri.runid or "").encode(),
        b"flags": flags_text(ri).encode(),
        b"link-pending-commands": _num(link.pending_commands),
        b"link-refcount": _num(link.refcount),
    }
    if isinstance(ri, Master) and ri.failover_in_progress:
        out[b"failover-state"] = ri.failover_state.label.encode()
    out[b"last-ping-sent"] = _num(now - link.act_ping_ms if link.act_ping_ms else 0)
    out[b"last-ok-ping-reply"] = _num(now - link.last_avail_ms)
    out[b"last-ping-reply"] = _num(now - link.last_pong_ms)
    if ri.s_down:
        out[b"s-down-time"] = _num(now - ri.s_down_since_ms)
    if ri.o_down:
        out[b"o-down-time"] = _num(now - ri.o_down_since_ms)
    out[b"down-after-milliseconds"] = _num(ri.down_after_ms)
    if not isinstance(ri, PeerSentinel):
        out[b"info-refresh"] = _num(now - ri.info_refresh_ms if ri.info_refresh_ms else 0)
        out[b"role-reported"] = b"master" if ri.role_reported is Kind.MASTER else b"slave"
        out[b"role-reported-time"] = _num(now - ri.role_reported_ms)
    if isinstance(ri, Master):
        out[b"config-epoch"] = _num(ri.config_epoch)
        out[b"num-slaves"] = _num(len(ri.replicas))
        out[b"num-other-sentinels"] = _num(len(ri.sentinels))
        out[b"quorum"] = _num(ri.quorum)
        out[b"failover-timeout"] = _num(ri.failover_timeout_ms)
        out[b"parallel-syncs"] = _num(ri.parallel_syncs)
        if ri.notification_script:
            out[b"notification-script"] = ri.notification_script.encode()
        if ri.client_reconfig_script:
            out[b"client-reconfig-script"] = ri.client_reconfig_script.encode()
    if isinstance(ri, Replica):
        out[b"master-link-down-time"] = _num(ri.master_link_down_ms)
        out[b"master-link-status"] = b"ok" if ri.master_link_up else b"err"
        out[b"master-host"] = (ri.master_host or "?").encode()
        out[b"master-port"] = _num(ri.master_port)
        out[b"slave-priority"] = _num(ri.priority)
        out[b"slave-repl-offset"] = _num(ri.repl_offset)
        out[b"replica-announced"] = _num(ri.replica_announced)
    if isinstance(ri, PeerSentinel):
        out[b"last-hello-message"] = _num(now - ri.last_hello_ms)
        out[b"voted-leader"] = (ri.leader or "?").encode()
        out[b"voted-leader-epoch"] = _num(ri.leader_epoch)
    return out


def _describe_all(monitor: Monitor, instances: list[Instance]) -> list[dict[bytes, bytes]]:
    """addReplyDictOfRedisInstances: unannounced replicas are left out."""
    return [
        describe(monitor, ri)
        for ri in instances
        if not (isinstance(ri, Replica) and not ri.replica_announced)
    ]


# --- SENTINEL subcommands ---


def sentinel_help(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL HELP"""
    return help_reply(argv, _HELP)


def sentinel_masters(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL MASTERS"""
    monitor = _monitor(ctx)
    return _describe_all(monitor, list(monitor.masters.values()))


def sentinel_master(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL MASTER master-name"""
    monitor = _monitor(ctx)
    return describe(monitor, _master_or_error(monitor, argv[2]))


def sentinel_replicas(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL REPLICAS master-name"""
    monitor = _monitor(ctx)
    master = _master_or_error(monitor, argv[2])
    return _describe_all(monitor, list(master.replicas.values()))


def sentinel_sentinels(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL SENTINELS master-name"""
    monitor = _monitor(ctx)
    master = _master_or_error(monitor, argv[2])
    return _describe_all(monitor, list(master.sentinels.values()))


def sentinel_myid(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL MYID"""
    return _monitor(ctx).myid.encode()


def sentinel_is_master_down_by_addr(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL IS-MASTER-DOWN-BY-ADDR ip port current-epoch runid"""
    monitor = _monitor(ctx)
    port = _long_long(argv[3])
    epoch = _long_long(argv[4])
    if port is None or epoch is None:
        raise CommandError(ERR_NOT_INTEGER)
    master = monitor.find_master_by_addr(_text(argv[2]), port)
    # Never "down" in TILT: our view of time is not to be trusted.
    is_down = not monitor.tilt and master is not None and master.s_down
    leader: str | None = None
    leader_epoch = 0
    if master is not None and argv[5] != b"*":
        # The vote is on disk before this reply leaves (Monitor.vote_leader).
        leader, leader_epoch = monitor.vote_leader(master, max(0, epoch), _text(argv[5]))
    return [1 if is_down else 0, (leader or "*").encode(), leader_epoch]


def sentinel_reset(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL RESET pattern"""
    return _monitor(ctx).reset_masters_by_pattern(_text(argv[2]), RESET_GENERATE_EVENT)


def sentinel_get_master_addr_by_name(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL GET-MASTER-ADDR-BY-NAME master-name"""
    monitor = _monitor(ctx)
    master = monitor.masters.get(_text(argv[2]))
    if master is None:
        return NULL_ARRAY
    addr = monitor.current_master_address(master)
    return [monitor.shown(addr).encode(), _num(addr.port)]


def sentinel_failover(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL FAILOVER master-name"""
    monitor = _monitor(ctx)
    master = _master_or_error(monitor, argv[2])
    if master.failover_in_progress:
        raise CommandError(ERR_SENTINEL_INPROG)
    if monitor.select_replica(master) is None:
        raise CommandError(ERR_SENTINEL_NOGOODSLAVE)
    monitor.user_failover(master)
    return OK


def sentinel_pending_scripts(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL PENDING-SCRIPTS"""
    return []  # scripts are never run, so none is ever pending


def sentinel_monitor(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL MONITOR name ip port quorum"""
    monitor = _monitor(ctx)
    quorum = _long_long(argv[5])
    if quorum is None:
        raise CommandError(ERR_SENTINEL_INVALID_QUORUM)
    port = _long_long(argv[4])
    if port is None:
        raise CommandError(ERR_SENTINEL_INVALID_PORT)
    if quorum <= 0:
        raise CommandError(ERR_SENTINEL_QUORUM_MIN)
    if monitor.resolve(_text(argv[3])) is None:
        raise CommandError(ERR_SENTINEL_INVALID_IP)
    try:
        master = monitor.add_master(_text(argv[2]), _text(argv[3]), port, quorum)
    except InstanceError as e:
        raise CommandError("ERR " + e.text) from None
    reply = _flush_and_reply(monitor)
    monitor.event(Level.WARNING, "+monitor", master, f"quorum {master.quorum}")
    return reply


def sentinel_flushconfig(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL FLUSHCONFIG"""
    return _flush_and_reply(_monitor(ctx))


def sentinel_remove(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL REMOVE master-name"""
    monitor = _monitor(ctx)
    master = _master_or_error(monitor, argv[2])
    monitor.event(Level.WARNING, "-monitor", master)
    del monitor.masters[master.name]
    monitor.release(master)
    return _flush_and_reply(monitor)


def sentinel_ckquorum(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL CKQUORUM master-name"""
    monitor = _monitor(ctx)
    master = _master_or_error(monitor, argv[2])
    result, usable = monitor.quorum_reachable(master)
    if result == QUORUM_OK:
        return SimpleString(
            f"OK {usable} usable Sentinels. Quorum and failover authorization can be "
            "reached".encode()
        )
    text = ERR_SENTINEL_NOQUORUM % usable
    if result & QUORUM_NO_QUORUM:
        text += ERR_SENTINEL_NOQUORUM_QUORUM
    if result & QUORUM_NO_AUTH:
        if result & QUORUM_NO_QUORUM:
            text += ". "
        text += ERR_SENTINEL_NOQUORUM_MAJORITY
    raise CommandError(text)


def sentinel_set(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL SET master-name option value [option value ...]"""
    monitor = _monitor(ctx)
    master = _master_or_error(monitor, argv[2])
    changes = 0
    j = 3
    try:
        while j < len(argv):
            more = len(argv) - 1 - j
            option = _text(argv[j])
            shown_args = _sentinel_set_option(monitor, master, argv, j, option, more)
            if shown_args is None:
                raise CommandError(ERR_SENTINEL_SET_UNKNOWN % option)
            changes += 1
            monitor.event(Level.WARNING, "+set", master, " ".join(shown_args))
            j += len(shown_args)
    except CommandError:
        # Options before the bad one stay applied, and are saved (as Sentinel does).
        if changes:
            monitor.flush_config()
        raise
    return _flush_and_reply(monitor)


def _positive(argv: list[bytes], i: int, option: str, minimum: int = 1) -> int:
    value = _long_long(argv[i])
    if value is None or value < minimum:
        raise CommandError(ERR_SENTINEL_SET_INVALID % (_text(argv[i]), option))
    return value


def _sentinel_set_option(
    monitor: Monitor, master: Master, argv: list[bytes], j: int, option: str, more: int
) -> list[str] | None:
    """Apply one SENTINEL SET option; return the words for the +set event (the option and
    its values), None for an unknown option."""
    name = option.lower()
    if more < 1:
        return None
    value = _text(argv[j + 1])
    if name == "down-after-milliseconds":
        master.down_after_ms = _positive(argv, j + 1, option)
        monitor.propagate_down_after(master)
    elif name == "failover-timeout":
        master.failover_timeout_ms = _positive(argv, j + 1, option)
    elif name == "parallel-syncs":
        master.parallel_syncs = _positive(argv, j + 1, option)
    elif name in ("notification-script", "client-reconfig-script"):
        if monitor.deny_scripts_reconfig:
            raise CommandError(ERR_SENTINEL_SCRIPTS_DENIED)
        if value and not os.access(value, os.X_OK):
            raise CommandError(
                ERR_SENTINEL_NOTIFICATION_SCRIPT
                if name == "notification-script"
                else ERR_SENTINEL_RECONFIG_SCRIPT
            )
        setattr(master, name.replace("-", "_"), value or None)
    elif name == "auth-pass":
        master.auth_pass = value or None
        monitor.drop_instance_connections(master)
        return [option, "******"]
    elif name == "auth-user":
        master.auth_user = value or None
        monitor.drop_instance_connections(master)
    elif name == "quorum":
        master.quorum = _positive(argv, j + 1, option)
    elif name == "rename-command":
        if more < 2:
            return None
        old, new = value, _text(argv[j + 2])
        if not old or not new:
            bad = j + 1 if new else j + 2
            raise CommandError(ERR_SENTINEL_SET_INVALID % (_text(argv[bad]), option))
        master.renamed_commands.pop(old.lower(), None)
        if old.lower() != new.lower():
            master.renamed_commands[old.lower()] = new
        return [option, old, new]
    elif name == "master-reboot-down-after-period":
        master.master_reboot_down_after_ms = _positive(argv, j + 1, option, minimum=0)
    else:
        return None
    return [option, value]


def sentinel_config(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL CONFIG GET option | SET option value"""
    monitor = _monitor(ctx)
    action = argv[2].lower()
    if action == b"set" and len(argv) == 5:
        return _config_set(monitor, _text(argv[3]), argv[4])
    if action == b"get" and len(argv) == 4:
        return _config_get(monitor, argv[3])
    raise CommandError(ERR_SENTINEL_CONFIG_FORM)


def _config_set(monitor: Monitor, option: str, raw: bytes) -> Reply:
    value = _text(raw)
    name = option.lower()
    drop = False
    bad = CommandError(ERR_SENTINEL_CONFIG_SET_VALUE % (value, option))
    if name in ("resolve-hostnames", "announce-hostnames"):
        flag = {"yes": True, "no": False}.get(value.lower())
        if flag is None:
            raise bad
        setattr(monitor, name.replace("-", "_"), flag)
    elif name == "announce-ip":
        monitor.announce_ip = value
    elif name == "announce-port":
        port = _long_long(raw)
        if port is None or not 0 <= port <= 65535:
            raise bad
        monitor.announce_port = port
    elif name == "sentinel-user":
        monitor.sentinel_auth_user = value or None
        drop = True
    elif name == "sentinel-pass":
        monitor.sentinel_auth_pass = value or None
        drop = True
    else:
        raise CommandError(ERR_SENTINEL_CONFIG_SET_OPTION % option)
    reply = _flush_and_reply(monitor)
    if drop:
        monitor.drop_sentinel_connections()
    return reply


def _config_get(monitor: Monitor, pattern: bytes) -> Reply:
    values: list[tuple[str, bytes]] = [
        ("resolve-hostnames", b"yes" if monitor.resolve_hostnames else b"no"),
        ("announce-hostnames", b"yes" if monitor.announce_hostnames else b"no"),
        ("announce-ip", monitor.announce_ip.encode()),
        ("announce-port", _num(monitor.announce_port)),
        ("sentinel-user", (monitor.sentinel_auth_user or "").encode()),
        ("sentinel-pass", (monitor.sentinel_auth_pass or "").encode()),
    ]
    return {
        name.encode(): value
        for name, value in values
        if stringmatch(pattern, name.encode(), nocase=True)
    }


def sentinel_info_cache(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL INFO-CACHE master-name [master-name ...]"""
    monitor = _monitor(ctx)
    now = monitor.now()
    if len(argv) > 2:
        chosen: dict[str, Master] = {}
        for raw in argv[2:]:
            master = monitor.masters.get(_text(raw))
            if master is not None:
                chosen[master.name] = master
        masters = list(chosen.values())
    else:
        masters = list(monitor.masters.values())
    out: list[Reply] = []
    for master in masters:
        entries: list[Reply] = [
            [
                now - master.info_refresh_ms if master.info_refresh_ms else 0,
                master.info.encode() if master.info is not None else None,
            ]
        ]
        for replica in master.replicas.values():
            # Sentinel tests the primary's refresh time here, not the replica's.
            age = now - replica.info_refresh_ms if master.info_refresh_ms else 0
            entries.append([age, replica.info.encode() if replica.info is not None else None])
        out.extend((master.name.encode(), entries))
    return out


def sentinel_simulate_failure(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]"""
    monitor = _monitor(ctx)
    monitor.simfailure_flags = 0
    for arg in argv[2:]:
        word = arg.lower()
        if word == b"crash-after-election":
            monitor.simfailure_flags |= SIMFAILURE_CRASH_AFTER_ELECTION
        elif word == b"crash-after-promotion":
            monitor.simfailure_flags |= SIMFAILURE_CRASH_AFTER_PROMOTION
        elif word == b"help":
            return [b"crash-after-election", b"crash-after-promotion"]
        else:
            raise CommandError(ERR_SENTINEL_SIMULATE)
    return OK


def sentinel_debug(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """SENTINEL DEBUG [param value ...]"""
    periods = _monitor(ctx).periods
    if len(argv) == 2:
        return {name.encode(): _num(getattr(periods, attr)) for name, attr in DEBUG_PERIODS}
    by_name = {name.lower(): attr for name, attr in DEBUG_PERIODS}
    j = 2
    while j < len(argv):
        option = _text(argv[j])
        attr = by_name.get(option.lower())
        if attr is None or j + 1 >= len(argv):
            raise CommandError(ERR_SENTINEL_DEBUG_UNKNOWN % option)
        value = _long_long(argv[j + 1])
        if value is None or value <= 0:
            raise CommandError(ERR_SENTINEL_DEBUG_INVALID % (_text(argv[j + 1]), option))
        setattr(periods, attr, value)
        j += 2
    return OK


# --- INFO, ROLE, PUBLISH in sentinel mode ---

_INFO_SECTIONS: Final[tuple[str, ...]] = ("server", "clients", "cpu", "stats", "sentinel")


def sentinel_info_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """INFO [section [section ...]]"""
    monitor = _monitor(ctx)
    asked = [_text(a).lower() for a in argv[1:]]
    if not asked or any(a in ("default", "all", "everything") for a in asked):
        wanted = set(_INFO_SECTIONS)
    else:
        wanted = {a for a in asked if a in _INFO_SECTIONS}
    common = [s for s in _INFO_SECTIONS[:-1] if s in wanted]
    text = info_text(ctx.app, common) if common else ""
    if "sentinel" in wanted:
        if text:
            text += "\r\n"
        tilt_since = (monitor.now() - monitor.tilt_start_ms) // 1000 if monitor.tilt else -1
        text += (
            "# Sentinel\r\n"
            f"sentinel_masters:{len(monitor.masters)}\r\n"
            f"sentinel_tilt:{int(monitor.tilt)}\r\n"
            f"sentinel_tilt_since_seconds:{tilt_since}\r\n"
            "sentinel_running_scripts:0\r\n"
            "sentinel_scripts_queue_length:0\r\n"
            f"sentinel_simulate_failure_flags:{monitor.simfailure_flags}\r\n"
        )
        for i, master in enumerate(monitor.masters.values()):
            status = "odown" if master.o_down else ("sdown" if master.s_down else "ok")
            text += (
                f"master{i}:name={master.name},status={status},"
                f"address={monitor.shown(master.addr)}:{master.addr.port},"
                f"slaves={len(master.replicas)},sentinels={len(master.sentinels) + 1}\r\n"
            )
    # A bulk string even in RESP3 (Sentinel's INFO is not a verbatim string).
    return text.encode("utf-8", "surrogateescape")


def sentinel_role_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """ROLE"""
    return [b"sentinel", [name.encode() for name in _monitor(ctx).masters]]


def sentinel_publish_command(ctx: CommandContext, argv: list[bytes]) -> Reply:
    """PUBLISH channel message"""
    if argv[1] != HELLO_CHANNEL.encode():
        raise CommandError(ERR_SENTINEL_ONLY_HELLO)
    _monitor(ctx).process_hello(_text(argv[2]))
    return 1


# --- the table ---

_SUBCOMMANDS: Final[dict[str, Callable[[CommandContext, list[bytes]], Reply]]] = {
    "ckquorum": sentinel_ckquorum,
    "config": sentinel_config,
    "debug": sentinel_debug,
    "failover": sentinel_failover,
    "flushconfig": sentinel_flushconfig,
    "get-master-addr-by-name": sentinel_get_master_addr_by_name,
    "help": sentinel_help,
    "info-cache": sentinel_info_cache,
    "is-master-down-by-addr": sentinel_is_master_down_by_addr,
    "master": sentinel_master,
    "masters": sentinel_masters,
    "monitor": sentinel_monitor,
    "myid": sentinel_myid,
    "pending-scripts": sentinel_pending_scripts,
    "remove": sentinel_remove,
    "replicas": sentinel_replicas,
    "reset": sentinel_reset,
    "sentinels": sentinel_sentinels,
    "set": sentinel_set,
    "simulate-failure": sentinel_simulate_failure,
    "slaves": sentinel_replicas,
}


def _flags(names: frozenset[str]) -> Flag:
    out = Flag(0)
    for name in names:
        member = Flag.__members__.get(name.upper())
        if member is not None:
            out |= member
    return out


def _spec(name: str, handler: Callable[[CommandContext, list[bytes]], Reply]) -> CommandSpec:
    """A CommandSpec with Redis's arity, flags and documentation for `name` (meta.json)."""
    described = meta.get(name)
    assert described is not None, name
    return CommandSpec(
        name=name,
        handler=handler,
        arity=described.arity,
        flags=_flags(described.flags),
        acl_categories=described.acl,
        group=described.group,
        since=described.since,
        summary=described.summary,
        complexity=described.complexity or "",
    )


def _unknown_sentinel_subcommand(ctx: CommandContext, argv: list[bytes]) -> Reply:
    raise AssertionError("dispatch resolves subcommands before calling a handler")


def _in_sentinel(name: str) -> bool:
    described = meta.get(name)
    return described is not None and "sentinel" in described.flags


def sentinel_table(base: dict[bytes, CommandSpec]) -> dict[bytes, CommandSpec]:
    """The monitor's command table, from the normal one (`base`).

    Kept: the commands and subcommands Redis flags `sentinel` (CMD_SENTINEL). Replaced:
    INFO, ROLE and PUBLISH. Added: SENTINEL and its subcommands.
    """
    table: dict[bytes, CommandSpec] = {}
    for key, spec in base.items():
        if not _in_sentinel(spec.name):
            continue
        if spec.subcommands:
            subs = {k: s for k, s in spec.subcommands.items() if _in_sentinel(s.name)}
            spec = dataclasses.replace(spec, subcommands=subs)
        table[key] = spec
    replaced: list[tuple[str, Callable[[CommandContext, list[bytes]], Reply]]] = [
        ("info", sentinel_info_command),
        ("role", sentinel_role_command),
        ("publish", sentinel_publish_command),
    ]
    for name, handler in replaced:
        table[name.upper().encode()] = _spec(name, handler)
    container = _spec("sentinel", _unknown_sentinel_subcommand)
    for sub, handler in _SUBCOMMANDS.items():
        spec = _spec(f"sentinel|{sub}", handler)
        spec.parent = container
        container.subcommands[sub.upper().encode()] = spec
    table[b"SENTINEL"] = container
    return table


def install_sentinel_table() -> dict[bytes, CommandSpec]:
    """Make the command table the monitor's; return the previous one (for restore_table)."""
    previous = dict(COMMANDS)
    replace_table(sentinel_table(previous))
    return previous


def restore_table(previous: dict[bytes, CommandSpec]) -> None:
    replace_table(previous)
