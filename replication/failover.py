"""Duocache's failover monitor: Sentinel's algorithm as explicit state machines, without I/O.

This module is the brain of `python -m server --sentinel`. It holds what a Redis Sentinel holds
(the monitored primaries, their replicas, the other monitors, epochs and votes) and runs the
same algorithm as Redis 7.0's sentinel.c: subjective down after `down-after-milliseconds`,
objective down at quorum, leader election with one vote per epoch, promotion of the best
replica and reconfiguration of the others, discovery through `__sentinel__:hello`, TILT mode.

Nothing here opens a socket or reads a clock by itself (it knows nothing of RESP either):

* Time comes from an injected `Clock` (wall-clock milliseconds, as Sentinel's `mstime()`; TILT
  mode exists precisely because that clock may jump).
* What must go over the network is appended to `Monitor.outbox` as `Connect`, `Send` and
  `Close` actions; the I/O layer (replication/links.py) performs them and reports back by
  calling `connection_established`, `connection_lost` and each `Send.on_reply`.
* Events (`+sdown`, `+odown`, `+switch-master`, ...) go to `Monitor.on_event`; the server
  publishes them on pub/sub with Sentinel's payloads and logs them.
* `Monitor.flush_config` persists the state (the config file, fsynced) and reports success.
  A vote is given only after it has been persisted.

Strategy (the state machines):

* Detection, per instance: a link (`Link`) records when pings were sent and answered; an
  instance is subjectively down (`s_down`) after `down_after_ms` without a valid reply, and a
  primary is objectively down (`o_down`) when `quorum` monitors, this one included, say so.
* Election, per primary: `Master.leader` / `leader_epoch` is this monitor's vote; it changes
  only for a higher epoch (`vote_leader`), after the epoch and the vote are on disk.
* Failover, per primary: `FailoverState` goes WAIT_START -> SELECT_REPLICA ->
  SEND_REPLICAOF_NO_ONE -> WAIT_PROMOTION -> RECONF_REPLICAS -> UPDATE_CONFIG, or back to
  NONE when aborted (not elected, no good replica, promotion timeout). Each state has one
  method (`_failover_*`), called from the timer.
* Replica reconfiguration, per replica: `ReconfState` NONE -> SENT -> IN_PROGRESS -> DONE,
  driven by what the replica's INFO reports.

Deliberate additions to Sentinel (fencing; each is marked "Fencing" below): a replica we know
that reports itself a primary while our primary is healthy (typically an old primary coming
back after being replaced) is paused for writes at once with `CLIENT PAUSE <ms> WRITE`, its
INFO is polled every second instead of every ten, no hello is published to it (a PUBLISH
would block behind the pause), and the MULTI that converts it into a replica ends with
`CLIENT UNPAUSE`. A vote whose persistence fails is withheld (Sentinel logs and votes anyway).
"Switch without stale votes": when a primary's configuration is reset (after +switch-master),
the other monitors' earlier "down" answers are forgotten and the new address is connected at
once. In Sentinel both survive the switch: with a short down-after-milliseconds the new
primary could look down before its first PONG (the reconnection waits out the ping period
of the attempts on the old address), the stale answers made that an ODOWN at once, and a
second failover discarded what the new primary had acknowledged since the switch.
`start()` makes time count from the first tick, so a slow process start looks neither like a
clock jump nor like unanswered pings.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import random
import socket
from collections.abc import Callable
from typing import Any, Final

from replication.instances import (
    DEFAULT_PORT,
    HELLO_CHANNEL,
    MAX_DESYNC_MS,
    MAX_PENDING_COMMANDS,
    Action,
    Address,
    Channel,
    Close,
    Connect,
    ErrorReply,
    Event,
    FailoverState,
    Instance,
    InstanceError,
    Kind,
    Level,
    Link,
    Master,
    PeerSentinel,
    Periods,
    ReconfState,
    Replica,
    Send,
    atoi,
    is_ip_literal,
)
from storage.clock import Clock
from storage.glob import stringmatch

# SENTINEL SIMULATE-FAILURE flags.
SIMFAILURE_CRASH_AFTER_ELECTION: Final = 1
SIMFAILURE_CRASH_AFTER_PROMOTION: Final = 2

# Options of reset_master.
RESET_NO_SENTINELS: Final = 1
RESET_GENERATE_EVENT: Final = 2

# sentinelIsQuorumReachable results.
QUORUM_OK: Final = 0
QUORUM_NO_QUORUM: Final = 1
QUORUM_NO_AUTH: Final = 2

logger = logging.getLogger(__name__)


class Monitor:
    """One monitor's whole state (Sentinel's `sentinel` struct) and its algorithm.

    Args:
        clock: wall-clock milliseconds.
        rng: randomness for election back-off and desynchronisation.
    """

    def __init__(self, clock: Clock, rng: random.Random | None = None) -> None:
        self.clock = clock
        self.rng = rng or random.Random()
        self.periods = Periods()
        self.myid = ""
        self.current_epoch = 0
        self.masters: dict[str, Master] = {}
        self.tilt = False
        self.tilt_start_ms = 0
        self.previous_ms = clock.now_ms()
        self.port = DEFAULT_PORT  # the port we serve, announced in hellos
        self.announce_ip = ""
        self.announce_port = 0
        self.deny_scripts_reconfig = True
        self.resolve_hostnames = False
        self.announce_hostnames = False
        self.sentinel_auth_user: str | None = None
        self.sentinel_auth_pass: str | None = None
        self.requirepass: str | None = None  # ours; also used with other monitors
        self.simfailure_flags = 0
        self.outbox: list[Action] = []
        # Called when the outbox goes from empty to not empty (the I/O layer's wake-up).
        self.wakeup: Callable[[], None] = _nothing
        self.on_event: Callable[[Event], None] = _ignore_event
        self.flush_config: Callable[[], bool] = _always_saved
        # SENTINEL SIMULATE-FAILURE: how to crash (the server exits with code 99).
        self.crash: Callable[[], None] = _nothing
        self.address_error = ""  # why make_address failed: "EINVAL" or "ENOENT"

    def now(self) -> int:
        return self.clock.now_ms()

    # --- events ---

    def event(self, level: Level, type_: str, ri: Instance | None, text: str = "") -> None:
        """sentinelEvent: with `ri`, the message starts with the instance's identity
        ("master mymaster 127.0.0.1 6379", plus " @ <primary>" for others)."""
        if ri is not None:
            who = f"{ri.kind.value} {ri.name} {self.shown(ri.addr)} {ri.addr.port}"
            if not isinstance(ri, Master):
                m = ri.primary
                who += f" @ {m.name} {self.shown(m.addr)} {m.addr.port}"
            text = f"{who} {text}" if text else who
        self.on_event(Event(level, type_, text))

    def shown(self, addr: Address) -> str:
        """announceSentinelAddr: the hostname when announcing hostnames, else the ip."""
        return addr.hostname if self.announce_hostnames else addr.ip

    def shown_addr_port(self, addr: Address) -> str:
        host = self.shown(addr)
        return f"[{host}]:{addr.port}" if ":" in host else f"{host}:{addr.port}"

    # --- addresses and instances ---

    def resolve(self, hostname: str) -> str | None:
        """anetResolve: an ip literal as is; a hostname only with resolve-hostnames."""
        if is_ip_literal(hostname):
            return str(ipaddress.ip_address(hostname))
        if not self.resolve_hostnames:
            return None
        try:
            infos = socket.getaddrinfo(hostname, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return None
        return str(infos[0][4][0]) if infos else None

    def make_address(self, hostname: str, port: int, accept_unresolved: bool) -> Address | None:
        """createSentinelAddr; None with the reason in `self.address_error`."""
        if port < 0 or port > 65535:
            self.address_error = "EINVAL"
            return None
        ip = self.resolve(hostname)
        if ip is None:
            logger.warning("Failed to resolve hostname '%s'", hostname)
            if not (self.resolve_hostnames and accept_unresolved):
                self.address_error = "ENOENT"
                return None
            ip = ""
        return Address(hostname, ip, port)

    def addr_equals_hostname(self, addr: Address, hostname: str | None) -> bool:
        """sentinelAddrEqualsHostname."""
        if hostname is None:
            return False
        ip = self.resolve(hostname)
        if ip is None:
            mine = addr.hostname if self.resolve_hostnames else addr.ip
            return mine.lower() == hostname.lower()
        return addr.ip.lower() == ip.lower()

    def _create_error(self, kind: Kind, duplicate: bool) -> InstanceError:
        if duplicate:
            return InstanceError(
                {
                    Kind.MASTER: "Duplicate master name.",
                    Kind.REPLICA: "Duplicate hostname and port for replica.",
                    Kind.SENTINEL: "Duplicate runid for sentinel.",
                }[kind]
            )
        if self.address_error == "ENOENT":
            return InstanceError("Can't resolve instance hostname.")
        return InstanceError("Invalid port number.")

    def add_master(self, name: str, hostname: str, port: int, quorum: int) -> Master:
        """Create a monitored primary (SENTINEL MONITOR, `sentinel monitor`).

        Raises:
            InstanceError: bad address or duplicate name.
        """
        addr = self.make_address(hostname, port, True)
        if addr is None:
            raise self._create_error(Kind.MASTER, False)
        if name in self.masters:
            raise self._create_error(Kind.MASTER, True)
        master = Master(name, addr, self.now(), quorum, self.periods)
        self.masters[name] = master
        return master

    def add_replica(self, master: Master, hostname: str, port: int) -> Replica:
        """Create a replica of `master`, named after its address.

        Raises:
            InstanceError: bad address or duplicate address.
        """
        addr = self.make_address(hostname, port, True)
        if addr is None:
            raise self._create_error(Kind.REPLICA, False)
        name = self.shown_addr_port(addr)
        if name in master.replicas:
            raise self._create_error(Kind.REPLICA, True)
        replica = Replica(name, addr, self.now(), master)
        master.replicas[name] = replica
        return replica

    def add_sentinel(self, master: Master, runid: str, hostname: str, port: int) -> PeerSentinel:
        """Create another monitor of `master`, named by its run id.

        Raises:
            InstanceError: bad address or duplicate run id.
        """
        addr = self.make_address(hostname, port, True)
        if addr is None:
            raise self._create_error(Kind.SENTINEL, False)
        if runid in master.sentinels:
            raise self._create_error(Kind.SENTINEL, True)
        peer = PeerSentinel(runid, addr, self.now(), master)
        peer.runid = runid
        master.sentinels[runid] = peer
        self._share_link(peer)
        return peer

    def _share_link(self, peer: PeerSentinel) -> None:
        """sentinelTryConnectionSharing: reuse the link of the same monitor under another
        primary, so one connection and one ping per second serve all of them."""
        if peer.runid is None or peer.link.refcount > 1:
            return
        for master in self.masters.values():
            if master is peer.master:
                continue
            match = master.sentinels.get(peer.runid)
            if match is None or match is peer:
                continue
            self._release_link(peer)
            peer.link = match.link
            match.link.refcount += 1
            return

    def _release_link(self, ri: Instance) -> None:
        link = ri.link
        link.refcount -= 1
        if link.refcount == 0:
            self._close(link, Channel.COMMANDS)
            self._close(link, Channel.PUBSUB)

    def release(self, ri: Instance) -> None:
        """releaseSentinelRedisInstance: drop an instance (and a primary's replicas and
        monitors); replies still on their way to it are ignored."""
        ri.released = True
        if isinstance(ri, Master):
            for each in list(ri.replicas.values()) + list(ri.sentinels.values()):
                self.release(each)
            ri.replicas.clear()
            ri.sentinels.clear()
        if isinstance(ri, Replica):
            self._unfence(ri)
            if ri.promoted and ri.master.promoted is ri:
                ri.master.promoted = None
        self._release_link(ri)

    def lookup_replica(self, master: Master, host: str, port: int) -> Replica | None:
        addr = self.make_address(host, port, False)
        if addr is None:
            return None
        return master.replicas.get(self.shown_addr_port(addr))

    def find_master_by_addr(self, host: str, port: int) -> Master | None:
        """getSentinelRedisInstanceByAddrAndRunID over the primaries, by address."""
        addr = self.make_address(host, port, True)
        if addr is None:
            return None
        for master in self.masters.values():
            if master.addr.same_as(addr):
                return master
        return None

    def _sentinel_by_addr_and_runid(
        self, master: Master, host: str | None, port: int, runid: str | None
    ) -> PeerSentinel | None:
        addr = None
        if host is not None:
            addr = self.make_address(host, port, True)
            if addr is None:
                return None
        for peer in master.sentinels.values():
            if runid is not None and peer.runid is None:
                continue
            if (runid is None or peer.runid == runid) and (addr is None or peer.addr.same_as(addr)):
                return peer
        return None

    def _remove_sentinel_by_runid(self, master: Master, runid: str | None) -> int:
        if runid is None:
            return 0
        removed = 0
        for name, peer in list(master.sentinels.items()):
            if peer.runid == runid:
                del master.sentinels[name]
                self.release(peer)
                removed += 1
        return removed

    # --- whole-primary operations ---

    def reset_master(self, master: Master, flags: int) -> None:
        """sentinelResetMaster: forget replicas (and monitors unless told otherwise), undo a
        failover in progress, restart detection and allow a new failover at once."""
        now = self.now()
        for replica in list(master.replicas.values()):
            self.release(replica)
        master.replicas = {}
        if not flags & RESET_NO_SENTINELS:
            for peer in list(master.sentinels.values()):
                self.release(peer)
            master.sentinels = {}
        else:
            # Switch without stale votes: the other monitors' "down" answers were about
            # the instance watched until now, not the one watched from now on.
            for peer in master.sentinels.values():
                peer.master_down = False
        self._close(master.link, Channel.COMMANDS)
        self._close(master.link, Channel.PUBSUB)
        master.s_down = master.o_down = False
        master.script_kill_sent = False
        master.master_reboot = False
        master.force_failover = False
        master.leader = None
        master.failover_state = FailoverState.NONE
        master.failover_state_change_ms = 0
        master.failover_start_ms = 0
        master.promoted = None
        master.runid = None
        master.master_host = None
        link = master.link
        link.act_ping_ms = now
        # Switch without stale votes: connect at the next tick. (Sentinel keeps the time of
        # its last attempt on the old address, which may delay this connection by a ping
        # period; with a down-after that short, the new primary looked down before its
        # first PONG, and the stale answers above made that an ODOWN and a second failover.)
        link.last_reconn_ms = 0
        link.last_ping_ms = 0
        link.last_avail_ms = now
        link.last_pong_ms = now
        master.role_reported_ms = now
        master.role_reported = Kind.MASTER
        if flags & RESET_GENERATE_EVENT:
            self.event(Level.WARNING, "+reset-master", master)

    def reset_masters_by_pattern(self, pattern: str, flags: int) -> int:
        count = 0
        for master in list(self.masters.values()):
            if stringmatch(pattern.encode(), master.name.encode()):
                self.reset_master(master, flags)
                count += 1
        return count

    def reset_master_and_change_address(self, master: Master, hostname: str, port: int) -> bool:
        """sentinelResetMasterAndChangeAddress: the primary is now at hostname:port; the
        other replicas stay, the old primary's address becomes a replica (to be fenced and
        repointed when it comes back). Used for +switch-master."""
        new_addr = self.make_address(hostname, port, False)
        if new_addr is None:
            return False
        keep = [r.addr for r in master.replicas.values() if not r.addr.same_as(new_addr)]
        if not new_addr.same_as(master.addr):
            keep.append(master.addr)
        self.reset_master(master, RESET_NO_SENTINELS)
        master.addr = new_addr
        master.o_down_since_ms = 0
        master.s_down_since_ms = 0
        for addr in keep:
            try:
                replica = self.add_replica(master, addr.hostname, addr.port)
            except InstanceError:
                continue
            self.event(Level.NOTICE, "+slave", replica)
        self.flush_config()
        return True

    def current_master_address(self, master: Master) -> Address:
        """The address to advertise: the promoted replica's once it acknowledged."""
        if (
            master.failover_in_progress
            and master.promoted is not None
            and master.failover_state >= FailoverState.RECONF_REPLICAS
        ):
            return master.promoted.addr
        return master.addr

    def propagate_down_after(self, master: Master) -> None:
        for each in (*master.replicas.values(), *master.sentinels.values()):
            each.down_after_ms = master.down_after_ms

    def no_down_for(self, ri: Instance, ms: int) -> bool:
        """No SDOWN or ODOWN began in the last `ms` milliseconds."""
        most_recent = max(ri.s_down_since_ms, ri.o_down_since_ms)
        return most_recent == 0 or self.now() - most_recent > ms

    def master_looks_sane(self, master: Master) -> bool:
        """A primary that reports itself primary, is not down and answered INFO lately."""
        return (
            master.role_reported is Kind.MASTER
            and not master.s_down
            and not master.o_down
            and self.now() - master.info_refresh_ms < self.periods.info_period * 2
        )

    def quorum_reachable(self, master: Master) -> tuple[int, int]:
        """sentinelIsQuorumReachable: (QUORUM_* flags, usable monitors counting us)."""
        usable = 1 + sum(1 for p in master.sentinels.values() if not (p.s_down or p.o_down))
        voters = len(master.sentinels) + 1
        result = QUORUM_OK
        if usable < master.quorum:
            result |= QUORUM_NO_QUORUM
        if usable < voters // 2 + 1:
            result |= QUORUM_NO_AUTH
        return result, usable

    # --- sending ---

    def _push(self, action: Action) -> None:
        self.outbox.append(action)
        if len(self.outbox) == 1:
            self.wakeup()

    def command_name(self, ri: Instance, name: str) -> bytes:
        """sentinelInstanceMapCommand: the name to send, after rename-command."""
        renamed = ri.primary.renamed_commands.get(name.lower())
        return (renamed or name).encode()

    def _send(
        self,
        ri: Instance,
        argv: list[bytes],
        on_reply: Callable[[Any], None] | None = None,
        channel: Channel = Channel.COMMANDS,
    ) -> bool:
        """Queue a command on the instance's link; False when that connection is absent."""
        link = ri.link
        conn = link.cc if channel is Channel.COMMANDS else link.pc
        if conn is None:
            return False

        def deliver(reply: Any) -> None:
            # Replies only count while this connection is the link's current one.
            current = link.cc if channel is Channel.COMMANDS else link.pc
            if current is not conn:
                return
            link.pending_commands -= 1
            if on_reply is not None and not ri.released:
                on_reply(reply)

        link.pending_commands += 1
        self._push(Send(conn, argv, deliver))
        return True

    def _close(self, link: Link, channel: Channel) -> None:
        """instanceLinkCloseConnection."""
        if channel is Channel.COMMANDS:
            conn = link.cc
            link.cc = None
            link.pending_commands = 0
            link.local_ip = None
        else:
            conn = link.pc
            link.pc = None
        if conn is not None:
            self._push(Close(conn))

    def connection_established(self, conn: Connect, local_ip: str) -> None:
        """The I/O layer connected `conn` (our end is `local_ip`)."""
        if conn.channel is Channel.COMMANDS and conn.link.cc is conn:
            conn.link.local_ip = local_ip

    def connection_lost(self, conn: Connect) -> None:
        """The I/O layer lost `conn`, or could not open it (instanceLinkConnectionError)."""
        link = conn.link
        if conn.channel is Channel.COMMANDS and link.cc is conn:
            link.cc = None
            link.local_ip = None
        elif conn.channel is Channel.PUBSUB and link.pc is conn:
            link.pc = None

    def _auth_argv(self, ri: Instance) -> list[bytes] | None:
        password: str | None
        user: str | None
        if isinstance(ri, PeerSentinel):
            if self.sentinel_auth_pass:
                password, user = self.sentinel_auth_pass, self.sentinel_auth_user
            else:
                password, user = self.requirepass, None
        else:
            master = ri.primary
            password, user = master.auth_pass, master.auth_user
        if not password:
            return None
        auth = self.command_name(ri, "AUTH")
        if user:
            return [auth, user.encode(), password.encode()]
        return [auth, password.encode()]

    def _setup_connection(self, ri: Instance, channel: Channel) -> None:
        auth = self._auth_argv(ri)
        if auth is not None:
            self._send(ri, auth, channel=channel)
        name = f"sentinel-{self.myid[:8]}-{channel.value}".encode()
        self._send(ri, [self.command_name(ri, "CLIENT"), b"SETNAME", name], channel=channel)

    def reconnect(self, ri: Instance) -> None:
        """sentinelReconnectInstance: open what is missing, at most once a ping period."""
        link = ri.link
        if not link.disconnected or ri.addr.port == 0:
            return
        now = self.now()
        if now - link.last_reconn_ms < self.periods.ping_period:
            return
        link.last_reconn_ms = now
        if link.cc is None:
            link.cc = Connect(link, Channel.COMMANDS, ri.addr.ip, ri.addr.port)
            self._push(link.cc)
            link.pending_commands = 0
            link.cc_conn_ms = now
            self._setup_connection(ri, Channel.COMMANDS)
            self.send_ping(ri)
        if link.wants_pubsub and link.pc is None:
            link.pc = Connect(link, Channel.PUBSUB, ri.addr.ip, ri.addr.port)
            self._push(link.pc)
            link.pc_conn_ms = now
            self._setup_connection(ri, Channel.PUBSUB)
            conn = link.pc

            def on_message(reply: Any) -> None:
                if link.pc is conn and not ri.released:
                    self.receive_hello(ri, reply)

            self._push(
                Send(
                    conn,
                    [self.command_name(ri, "SUBSCRIBE"), HELLO_CHANNEL.encode()],
                    on_message,
                    persistent=True,
                )
            )

    # --- periodic commands and their replies ---

    def send_ping(self, ri: Instance) -> bool:
        link = ri.link
        if not self._send(ri, [self.command_name(ri, "PING")], lambda r: self._ping_reply(ri, r)):
            return False
        link.last_ping_ms = self.now()
        # A ping still unanswered keeps its start time: idle time counts from the first.
        if link.act_ping_ms == 0:
            link.act_ping_ms = link.last_ping_ms
        return True

    def _ping_reply(self, ri: Instance, reply: Any) -> None:
        link = ri.link
        now = self.now()
        text = _reply_text(reply)
        if text is not None:
            if text.startswith(("PONG", "LOADING", "MASTERDOWN")):
                link.last_avail_ms = now
                link.act_ping_ms = 0
                if isinstance(ri, Master) and ri.master_reboot and text.startswith("PONG"):
                    ri.master_reboot = False
            elif text.startswith("BUSY") and ri.s_down and not ri.script_kill_sent:
                # A primary stuck in a script looks down: try to stop the script.
                self._send(ri, [self.command_name(ri, "SCRIPT"), b"KILL"])
                ri.script_kill_sent = True
        link.last_pong_ms = now

    def _info_reply(self, ri: Instance, reply: Any) -> None:
        if isinstance(reply, bytes):
            self.refresh_info(ri, reply.decode("utf-8", "replace"))

    def send_periodic_commands(self, ri: Instance) -> None:
        """sentinelSendPeriodicCommands: INFO, PING and hello, each at its own period."""
        link = ri.link
        if link.disconnected:
            return
        if link.pending_commands >= MAX_PENDING_COMMANDS * link.refcount:
            return
        now = self.now()
        periods = self.periods
        info_period = periods.info_period
        if isinstance(ri, Replica) and (
            ri.master.o_down or ri.master.failover_in_progress or ri.master_link_down_ms != 0
        ):
            info_period = 1000
        if self._claims_primary(ri):
            info_period = 1000  # Fencing: convert it as soon as Sentinel's wait allows.
        ping_period = min(ri.down_after_ms, periods.ping_period)
        if not isinstance(ri, PeerSentinel) and (
            ri.info_refresh_ms == 0 or now - ri.info_refresh_ms > info_period
        ):
            self._send(ri, [self.command_name(ri, "INFO")], lambda r: self._info_reply(ri, r))
        if now - link.last_pong_ms > ping_period and now - link.last_ping_ms > ping_period // 2:
            self.send_ping(ri)
        if now - ri.last_pub_ms > periods.publish_period and not self._claims_primary(ri):
            self.send_hello(ri)

    def _claims_primary(self, ri: Instance) -> bool:
        """Fencing: a replica we did not promote that reports itself a primary."""
        return isinstance(ri, Replica) and ri.role_reported is Kind.MASTER and not ri.promoted

    def refresh_info(self, ri: Instance, info: str) -> None:
        """sentinelRefreshInstanceInfo: read INFO, then act on what changed."""
        ri.info = info
        ri.master_link_down_ms = 0
        role: Kind | None = None
        now = self.now()
        for line in info.split("\r\n"):
            if len(line) >= 47 and line.startswith("run_id:"):
                runid = line[7:47]
                if ri.runid is None:
                    ri.runid = runid
                elif ri.runid != runid:
                    self.event(Level.NOTICE, "+reboot", ri)
                    if isinstance(ri, Master) and ri.master_reboot_down_after_ms != 0:
                        ri.master_reboot = True
                        ri.master_reboot_since_ms = now
                    ri.runid = runid
            if (
                isinstance(ri, Master)
                and len(line) >= 7
                and line.startswith("slave")
                and line[5].isdigit()
            ):
                self._discover_replica(ri, line)
            if len(line) >= 32 and line.startswith("master_link_down_since_seconds"):
                ri.master_link_down_ms = atoi(line[31:]) * 1000
            if line.startswith("role:master"):
                role = Kind.MASTER
            elif line.startswith("role:slave"):
                role = Kind.REPLICA
            if role is Kind.REPLICA:
                self._read_replica_line(ri, line, now)
        ri.info_refresh_ms = now

        # --- acting half ---
        if role is not ri.role_reported:
            ri.role_reported_ms = now
            ri.role_reported = role
            if role is Kind.REPLICA:
                ri.replica_conf_change_ms = now
            coherent = ri.kind is role
            shown = "master" if role is Kind.MASTER else "slave"
            self.event(
                Level.VERBOSE,
                "+role-change" if coherent else "-role-change",
                ri,
                f"new reported role is {shown}",
            )
        if self.tilt:
            return
        if isinstance(ri, Replica) and role is Kind.MASTER:
            self._replica_reports_primary(ri)
        if isinstance(ri, Replica) and role is Kind.REPLICA:
            self._replica_reports_replica(ri)

    def _discover_replica(self, master: Master, line: str) -> None:
        """A `slaveN:` line of a primary's INFO: add the replica if it is new."""
        if "ip=" not in line:
            # Old format: slave0:<ip>,<port>,<state>
            _, _, rest = line.partition(":")
            parts = rest.split(",")
            if len(parts) < 3:
                return
            ip, port = parts[0], parts[1]
        else:
            ip = line[line.index("ip=") + 3 :]
            if "port=" not in line:
                return
            port = line[line.index("port=") + 5 :]
            ip = ip.split(",", 1)[0]
            port = port.split(",", 1)[0]
        if self.lookup_replica(master, ip, atoi(port)) is not None:
            return
        try:
            replica = self.add_replica(master, ip, atoi(port))
        except InstanceError:
            return
        self.event(Level.NOTICE, "+slave", replica)
        self.flush_config()

    def _read_replica_line(self, ri: Instance, line: str, now: int) -> None:
        if line.startswith("master_host:"):
            host = line[12:]
            if ri.master_host is None or host.lower() != ri.master_host.lower():
                ri.master_host = host
                ri.replica_conf_change_ms = now
        elif line.startswith("master_port:"):
            port = atoi(line[12:])
            if ri.master_port != port:
                ri.master_port = port
                ri.replica_conf_change_ms = now
        elif line.startswith("master_link_status:"):
            ri.master_link_up = line[19:].lower() == "up"
        elif line.startswith("slave_priority:"):
            ri.priority = atoi(line[15:])
        elif line.startswith("slave_repl_offset:"):
            ri.repl_offset = max(0, atoi(line[18:]))
        elif line.startswith("replica_announced:"):
            ri.replica_announced = atoi(line[18:])

    def _replica_reports_primary(self, ri: Replica) -> None:
        master = ri.master
        if (
            ri.promoted
            and master.failover_in_progress
            and master.failover_state is FailoverState.WAIT_PROMOTION
        ):
            # The chosen replica is a primary now: the failover's epoch becomes the
            # configuration's, which makes the other monitors adopt it.
            master.config_epoch = master.failover_epoch
            self._set_failover_state(master, FailoverState.RECONF_REPLICAS)
            self.flush_config()
            self.event(Level.WARNING, "+promoted-slave", ri)
            if self.simfailure_flags & SIMFAILURE_CRASH_AFTER_PROMOTION:
                self.crash()
            self.event(Level.WARNING, "+failover-state-reconf-slaves", master)
            self.force_hello_update(master)
            return
        if ri.promoted or not self.master_looks_sane(master):
            return
        # A replica that turned primary (an old primary back after a failover, or one
        # promoted by hand): Sentinel waits before imposing its view, in case a newer
        # configuration is on its way.
        self._fence(ri)
        wait_ms = self.periods.publish_period * 4
        if (
            self.no_down_for(ri, wait_ms)
            and self.now() - ri.role_reported_ms > wait_ms
            and self.send_replicaof(ri, master.addr)
        ):
            self.event(Level.NOTICE, "+convert-to-slave", ri)

    def _replica_reports_replica(self, ri: Replica) -> None:
        master = ri.master
        if ri.master_port != master.addr.port or not self.addr_equals_hostname(
            master.addr, ri.master_host
        ):
            # Replicating from the wrong primary: fix it once things settled.
            wait_ms = master.failover_timeout_ms
            if (
                self.master_looks_sane(master)
                and self.no_down_for(ri, wait_ms)
                and self.now() - ri.replica_conf_change_ms > wait_ms
                and self.send_replicaof(ri, master.addr)
            ):
                self.event(Level.NOTICE, "+fix-slave-config", ri)
        promoted = master.promoted
        if (
            ri.reconf is ReconfState.SENT
            and promoted is not None
            and ri.master_host
            and self.addr_equals_hostname(promoted.addr, ri.master_host)
            and ri.master_port == promoted.addr.port
        ):
            ri.reconf = ReconfState.IN_PROGRESS
            self.event(Level.NOTICE, "+slave-reconf-inprog", ri)
        if ri.reconf is ReconfState.IN_PROGRESS and ri.master_link_up:
            ri.reconf = ReconfState.DONE
            self.event(Level.NOTICE, "+slave-reconf-done", ri)

    # --- fencing ---

    def _fence(self, ri: Replica) -> None:
        """Fencing: pause writes on a replica that claims to be a primary until it is
        converted, renewing the pause while the claim lasts (it expires by itself if we
        lose sight of it or learn of a newer configuration)."""
        now = self.now()
        duration = self.periods.publish_period * 4 + self.periods.ping_period * 2
        if ri.fenced_until_ms - now > duration // 2:
            return
        argv = [self.command_name(ri, "CLIENT"), b"PAUSE", str(duration).encode(), b"WRITE"]
        if self._send(ri, argv):
            first = ri.fenced_until_ms == 0
            ri.fenced_until_ms = now + duration
            if first:
                self.event(Level.NOTICE, "+fence", ri, f"writes paused for {duration} ms")

    def _unfence(self, ri: Replica) -> None:
        if ri.fenced_until_ms and ri.fenced_until_ms > self.now():
            self._send(ri, [self.command_name(ri, "CLIENT"), b"UNPAUSE"])
        ri.fenced_until_ms = 0

    # --- hello messages ---

    def send_hello(self, ri: Instance) -> bool:
        """Publish who we are and our view of the primary (sentinelSendHello):
        ip,port,runid,current_epoch,master_name,master_ip,master_port,master_config_epoch."""
        link = ri.link
        if link.disconnected:
            return False
        master = ri.primary
        addr = self.current_master_address(master)
        ip = self.announce_ip or link.local_ip
        if not ip:
            return False
        port = self.announce_port or self.port
        payload = (
            f"{ip},{port},{self.myid},{self.current_epoch},"
            f"{master.name},{self.shown(addr)},{addr.port},{master.config_epoch}"
        )

        def on_reply(reply: Any) -> None:
            # Only a delivered hello counts; otherwise it is retried at the next tick.
            if not isinstance(reply, ErrorReply):
                ri.last_pub_ms = self.now()

        argv = [self.command_name(ri, "PUBLISH"), HELLO_CHANNEL.encode(), payload.encode()]
        return self._send(ri, argv, on_reply)

    def force_hello_update(self, master: Master) -> None:
        """Make the next timer tick send hellos everywhere for this primary."""
        step = self.periods.publish_period + 1
        for ri in (master, *master.sentinels.values(), *master.replicas.values()):
            if ri.last_pub_ms >= step:
                ri.last_pub_ms -= step

    def receive_hello(self, ri: Instance, reply: Any) -> None:
        """A frame on the hello subscription of a primary or replica."""
        ri.link.pc_last_activity_ms = self.now()
        if (
            not isinstance(reply, list)
            or len(reply) != 3
            or not all(isinstance(x, bytes) for x in reply)
            or reply[0] != b"message"
        ):
            return
        text = reply[2].decode("utf-8", "replace")
        if self.myid in text:
            return  # our own hello
        self.process_hello(text)

    def process_hello(self, hello: str) -> None:
        """sentinelProcessHelloMessage: learn a monitor, a newer epoch, a newer config."""
        token = hello.split(",")
        if len(token) != 8:
            return
        master = self.masters.get(token[4])
        if master is None:
            return
        now = self.now()
        port = atoi(token[1])
        master_port = atoi(token[6])
        current_epoch = max(0, atoi(token[3]))
        master_config_epoch = max(0, atoi(token[7]))
        si = self._sentinel_by_addr_and_runid(master, token[0], port, token[2])
        if si is None:
            # A monitor we did not know at this address: it may have moved.
            removed = self._remove_sentinel_by_runid(master, token[2])
            if removed:
                self.event(
                    Level.NOTICE,
                    "+sentinel-address-switch",
                    master,
                    f"ip {token[0]} port {port} for {token[2]}",
                )
            else:
                other = self._sentinel_by_addr_and_runid(master, token[0], port, None)
                if other is not None:
                    # Another run id at this address: that one is gone everywhere.
                    self.event(Level.NOTICE, "+sentinel-invalid-addr", other)
                    obsolete = other.runid
                    for each in self.masters.values():
                        self._remove_sentinel_by_runid(each, obsolete)
            try:
                si = self.add_sentinel(master, token[2], token[0], port)
            except InstanceError:
                si = None
            if si is not None:
                if not removed:
                    self.event(Level.NOTICE, "+sentinel", si)
                if removed:
                    self._update_sentinel_address_everywhere(si)
                self.flush_config()
        if current_epoch > self.current_epoch:
            self.current_epoch = current_epoch
            self.flush_config()
            self.event(Level.WARNING, "+new-epoch", master, str(self.current_epoch))
        if si is not None and master.config_epoch < master_config_epoch:
            master.config_epoch = master_config_epoch
            if master_port != master.addr.port or not self.addr_equals_hostname(
                master.addr, token[5]
            ):
                self.event(Level.WARNING, "+config-update-from", si)
                self.event(
                    Level.WARNING,
                    "+switch-master",
                    None,
                    f"{master.name} {self.shown(master.addr)} {master.addr.port} "
                    f"{token[5]} {master_port}",
                )
                self.reset_master_and_change_address(master, token[5], master_port)
        if si is not None:
            si.last_hello_ms = now

    def _update_sentinel_address_everywhere(self, si: PeerSentinel) -> int:
        """sentinelUpdateSentinelAddressInAllMasters."""
        reconfigured = 0
        for master in self.masters.values():
            match = self._sentinel_by_addr_and_runid(master, None, 0, si.runid)
            if match is None:
                continue
            self._close(match.link, Channel.COMMANDS)
            self._close(match.link, Channel.PUBSUB)
            if match is si:
                continue
            match.addr = Address(si.addr.hostname, si.addr.ip, si.addr.port)
            reconfigured += 1
        if reconfigured:
            self.event(
                Level.NOTICE,
                "+sentinel-address-update",
                si,
                f"{reconfigured} additional matching instances",
            )
        return reconfigured

    # --- failure detection ---

    def check_subjectively_down(self, ri: Instance) -> None:
        """sentinelCheckSubjectivelyDown (and the reconnection of idle connections)."""
        now = self.now()
        link = ri.link
        periods = self.periods
        elapsed = 0
        if link.act_ping_ms:
            elapsed = now - link.act_ping_ms
        elif link.disconnected:
            elapsed = now - link.last_avail_ms
        # A commands connection with a ping pending for half the timeout, and no reply of
        # any kind either, may be stuck: reconnect it (not a fresh one, though).
        if (
            link.cc is not None
            and now - link.cc_conn_ms > periods.min_link_reconnect_period
            and link.act_ping_ms != 0
            and now - link.act_ping_ms > ri.down_after_ms // 2
            and now - link.last_pong_ms > ri.down_after_ms // 2
        ):
            self._close(link, Channel.COMMANDS)
        # A subscription silent for three publish periods (we hear our own hellos) too.
        if (
            link.pc is not None
            and now - link.pc_conn_ms > periods.min_link_reconnect_period
            and now - link.pc_last_activity_ms > periods.publish_period * 3
        ):
            self._close(link, Channel.PUBSUB)
        down = elapsed > ri.down_after_ms
        if isinstance(ri, Master):
            # A primary reporting itself a replica for long enough counts as down, and so
            # does one that rebooted and did not answer PONG within the configured time.
            down = down or (
                ri.role_reported is Kind.REPLICA
                and now - ri.role_reported_ms > ri.down_after_ms + periods.info_period * 2
            )
            down = down or (
                ri.master_reboot
                and now - ri.master_reboot_since_ms > ri.master_reboot_down_after_ms
            )
        if down:
            if not ri.s_down:
                self.event(Level.WARNING, "+sdown", ri)
                ri.s_down_since_ms = now
                ri.s_down = True
        elif ri.s_down:
            self.event(Level.WARNING, "-sdown", ri)
            ri.s_down = False
            ri.script_kill_sent = False

    def check_objectively_down(self, master: Master) -> None:
        """sentinelCheckObjectivelyDown: SDOWN here plus enough monitors that agree."""
        quorum = 0
        odown = False
        if master.s_down:
            quorum = 1 + sum(1 for p in master.sentinels.values() if p.master_down)
            odown = quorum >= master.quorum
        if odown:
            if not master.o_down:
                self.event(Level.WARNING, "+odown", master, f"#quorum {quorum}/{master.quorum}")
                master.o_down = True
                master.o_down_since_ms = self.now()
        elif master.o_down:
            self.event(Level.WARNING, "-odown", master)
            master.o_down = False

    def ask_master_state(self, master: Master, forced: bool) -> None:
        """sentinelAskMasterStateToOtherSentinels: while we think the primary is down, ask
        the other monitors (and ask for their vote once a failover started)."""
        now = self.now()
        for peer in master.sentinels.values():
            if now - peer.last_master_down_reply_ms > self.periods.ask_period * 5:
                peer.master_down = False
                peer.leader = None
            if not master.s_down:
                continue
            if peer.link.disconnected:
                continue
            if not forced and now - peer.last_master_down_reply_ms < self.periods.ask_period:
                continue
            runid = self.myid if master.failover_state > FailoverState.NONE else "*"
            argv = [
                self.command_name(peer, "SENTINEL"),
                b"is-master-down-by-addr",
                self.shown(master.addr).encode(),
                str(master.addr.port).encode(),
                str(self.current_epoch).encode(),
                runid.encode(),
            ]
            self._send(peer, argv, functools.partial(self._is_master_down_reply, peer))

    def _is_master_down_reply(self, peer: PeerSentinel, reply: Any) -> None:
        if not (
            isinstance(reply, list)
            and len(reply) == 3
            and isinstance(reply[0], int)
            and isinstance(reply[1], bytes)
            and isinstance(reply[2], int)
        ):
            return
        peer.last_master_down_reply_ms = self.now()
        peer.master_down = reply[0] == 1
        leader = reply[1].decode("utf-8", "replace")
        if leader != "*":
            if peer.leader_epoch != reply[2]:
                logger.warning("%s voted for %s %d", peer.name, leader, reply[2])
            peer.leader = leader
            peer.leader_epoch = reply[2]

    # --- election ---

    def vote_leader(self, master: Master, req_epoch: int, req_runid: str) -> tuple[str | None, int]:
        """sentinelVoteLeader: vote for `req_runid` unless we already voted in this epoch
        or a later one; return our vote for the primary and its epoch.

        The epoch and the vote are flushed to disk before this returns, so a vote is never
        given twice in one epoch, even across a crash. If the vote cannot be saved it is
        not given.
        """
        if req_epoch > self.current_epoch:
            self.current_epoch = req_epoch
            self.flush_config()
            self.event(Level.WARNING, "+new-epoch", master, str(self.current_epoch))
        if master.leader_epoch < req_epoch and self.current_epoch <= req_epoch:
            previous = (master.leader, master.leader_epoch)
            master.leader = req_runid
            master.leader_epoch = self.current_epoch
            if not self.flush_config():
                master.leader, master.leader_epoch = previous
                logger.warning("vote for %s not saved on disk: not given", req_runid)
            else:
                self.event(
                    Level.WARNING,
                    "+vote-for-leader",
                    master,
                    f"{master.leader} {master.leader_epoch}",
                )
                # Having voted for someone else, wait before trying a failover ourselves.
                if master.leader.lower() != self.myid.lower():
                    master.failover_start_ms = self.now() + self.rng.randrange(MAX_DESYNC_MS)
        return master.leader, master.leader_epoch

    def get_leader(self, master: Master, epoch: int) -> str | None:
        """sentinelGetLeader: the monitor with a majority of the votes (and at least quorum)
        for `epoch`, casting our own vote for the front runner (or us) if not cast yet."""
        voters = len(master.sentinels) + 1
        counters: dict[str, int] = {}
        for peer in master.sentinels.values():
            if peer.leader is not None and peer.leader_epoch == self.current_epoch:
                counters[peer.leader] = counters.get(peer.leader, 0) + 1
        winner: str | None = None
        max_votes = 0
        for runid, votes in counters.items():
            if votes > max_votes:
                max_votes = votes
                winner = runid
        myvote, leader_epoch = self.vote_leader(master, epoch, winner or self.myid)
        if myvote is not None and leader_epoch == epoch:
            votes = counters.get(myvote, 0) + 1
            counters[myvote] = votes
            if votes > max_votes:
                max_votes = votes
                winner = myvote
        if winner is not None and (max_votes < voters // 2 + 1 or max_votes < master.quorum):
            winner = None
        return winner

    # --- failover ---

    def send_replicaof(self, ri: Instance, addr: Address | None) -> bool:
        """sentinelSendSlaveOf: REPLICAOF (NO ONE without an address) in one MULTI with
        CONFIG REWRITE and CLIENT KILL TYPE normal / pubsub, so clients reconnect and find
        the new primary. Replies are ignored: the next INFO shows the effect."""
        if addr is None:
            host, port = b"NO", b"ONE"
        else:
            host, port = self.shown(addr).encode(), str(addr.port).encode()
        client = self.command_name(ri, "CLIENT")
        commands = [
            [self.command_name(ri, "MULTI")],
            [self.command_name(ri, "SLAVEOF"), host, port],
            [self.command_name(ri, "CONFIG"), b"REWRITE"],
            [client, b"KILL", b"TYPE", b"normal"],
            [client, b"KILL", b"TYPE", b"pubsub"],
        ]
        fenced = isinstance(ri, Replica) and ri.fenced_until_ms > self.now()
        if fenced:
            commands.append([client, b"UNPAUSE"])  # Fencing: release what we paused.
        commands.append([self.command_name(ri, "EXEC")])
        for argv in commands:
            if not self._send(ri, argv):
                return False
        if isinstance(ri, Replica):
            ri.fenced_until_ms = 0
        return True

    def _set_failover_state(self, master: Master, state: FailoverState) -> None:
        master.failover_state = state
        master.failover_state_change_ms = self.now()

    def start_failover(self, master: Master) -> None:
        """sentinelStartFailover: a new epoch, then wait for the election."""
        self._set_failover_state(master, FailoverState.WAIT_START)
        self.current_epoch += 1
        master.failover_epoch = self.current_epoch
        self.event(Level.WARNING, "+new-epoch", master, str(self.current_epoch))
        self.event(Level.WARNING, "+try-failover", master)
        master.failover_start_ms = self.now() + self.rng.randrange(MAX_DESYNC_MS)

    def start_failover_if_needed(self, master: Master) -> bool:
        """ODOWN, no failover running, and none tried in the last 2 x failover-timeout."""
        if not master.o_down or master.failover_in_progress:
            return False
        now = self.now()
        if now - master.failover_start_ms < master.failover_timeout_ms * 2:
            if master.failover_delay_logged != master.failover_start_ms:
                master.failover_delay_logged = master.failover_start_ms
                logger.warning(
                    "Next failover delay: I will not start a failover before %d ms from now",
                    master.failover_start_ms + master.failover_timeout_ms * 2 - now,
                )
            return False
        self.start_failover(master)
        return True

    def select_replica(self, master: Master) -> Replica | None:
        """sentinelSelectSlave: the best replica to promote, or None.

        Excluded: down or disconnected replicas, those that did not answer a ping in the
        last 5 ping periods, priority 0, stale INFO, and those whose link to the primary has
        been down much longer than the primary itself. The rest are ranked by lowest
        priority, then highest replication offset, then smallest run id.
        """
        now = self.now()
        periods = self.periods
        max_master_down = master.down_after_ms * 10
        if master.s_down:
            max_master_down += now - master.s_down_since_ms
        # While the primary is down, replicas' INFO comes every second.
        info_validity = periods.ping_period * 5 if master.s_down else periods.info_period * 3
        candidates = []
        for replica in master.replicas.values():
            if replica.s_down or replica.o_down or replica.link.disconnected:
                continue
            if now - replica.link.last_avail_ms > periods.ping_period * 5:
                continue
            if replica.priority == 0:
                continue
            if now - replica.info_refresh_ms > info_validity:
                continue
            if replica.master_link_down_ms > max_master_down:
                continue
            candidates.append(replica)
        if not candidates:
            return None
        return min(candidates, key=_promotion_rank)

    def _failover_wait_start(self, master: Master) -> None:
        leader = self.get_leader(master, master.failover_epoch)
        is_leader = leader is not None and leader.lower() == self.myid.lower()
        if not is_leader and not master.force_failover:
            election_timeout = min(self.periods.election_timeout, master.failover_timeout_ms)
            if self.now() - master.failover_start_ms > election_timeout:
                self.event(Level.WARNING, "-failover-abort-not-elected", master)
                self.abort_failover(master)
            return
        self.event(Level.WARNING, "+elected-leader", master)
        if self.simfailure_flags & SIMFAILURE_CRASH_AFTER_ELECTION:
            self.crash()
        self._set_failover_state(master, FailoverState.SELECT_REPLICA)
        self.event(Level.WARNING, "+failover-state-select-slave", master)

    def _failover_select_replica(self, master: Master) -> None:
        replica = self.select_replica(master)
        if replica is None:
            self.event(Level.WARNING, "-failover-abort-no-good-slave", master)
            self.abort_failover(master)
            return
        self.event(Level.WARNING, "+selected-slave", replica)
        replica.promoted = True
        master.promoted = replica
        self._set_failover_state(master, FailoverState.SEND_REPLICAOF_NO_ONE)
        self.event(Level.NOTICE, "+failover-state-send-slaveof-noone", replica)

    def _failover_send_replicaof_no_one(self, master: Master) -> None:
        promoted = master.promoted
        assert promoted is not None
        if promoted.link.disconnected:
            if self.now() - master.failover_state_change_ms > master.failover_timeout_ms:
                self.event(Level.WARNING, "-failover-abort-slave-timeout", master)
                self.abort_failover(master)
            return
        if not self.send_replicaof(promoted, None):
            return
        self.event(Level.NOTICE, "+failover-state-wait-promotion", promoted)
        self._set_failover_state(master, FailoverState.WAIT_PROMOTION)

    def _failover_wait_promotion(self, master: Master) -> None:
        # Only the timeout: the promoted replica's INFO moves the state forward.
        if self.now() - master.failover_state_change_ms > master.failover_timeout_ms:
            self.event(Level.WARNING, "-failover-abort-slave-timeout", master)
            self.abort_failover(master)

    def _failover_detect_end(self, master: Master) -> None:
        promoted = master.promoted
        if promoted is None or promoted.s_down:
            return
        elapsed = self.now() - master.failover_state_change_ms
        not_reconfigured = sum(
            1
            for r in master.replicas.values()
            if not (r.promoted or r.reconf is ReconfState.DONE) and not r.s_down
        )
        timeout = elapsed > master.failover_timeout_ms
        if timeout:
            not_reconfigured = 0
            self.event(Level.WARNING, "+failover-end-for-timeout", master)
        if not_reconfigured == 0:
            self.event(Level.WARNING, "+failover-end", master)
            self._set_failover_state(master, FailoverState.UPDATE_CONFIG)
        if timeout:
            # Best effort for the replicas not repointed yet.
            for replica in master.replicas.values():
                if replica.promoted or replica.reconf in (ReconfState.DONE, ReconfState.SENT):
                    continue
                if replica.link.disconnected:
                    continue
                if self.send_replicaof(replica, promoted.addr):
                    self.event(Level.NOTICE, "+slave-reconf-sent-be", replica)
                    replica.reconf = ReconfState.SENT

    def _failover_reconf_next_replica(self, master: Master) -> None:
        """Repoint the other replicas to the promoted one, parallel-syncs at a time."""
        promoted = master.promoted
        assert promoted is not None
        now = self.now()
        in_progress = sum(
            1
            for r in master.replicas.values()
            if r.reconf in (ReconfState.SENT, ReconfState.IN_PROGRESS)
        )
        for replica in master.replicas.values():
            if in_progress >= master.parallel_syncs:
                break
            if replica.promoted or replica.reconf is ReconfState.DONE:
                continue
            if (
                replica.reconf is ReconfState.SENT
                and now - replica.reconf_sent_ms > self.periods.slave_reconf_timeout
            ):
                # Sentinels will fix its configuration later if it really is wrong.
                self.event(Level.NOTICE, "-slave-reconf-sent-timeout", replica)
                replica.reconf = ReconfState.DONE
            if replica.reconf in (ReconfState.SENT, ReconfState.IN_PROGRESS):
                continue
            if replica.link.disconnected:
                continue
            if self.send_replicaof(replica, promoted.addr):
                replica.reconf = ReconfState.SENT
                replica.reconf_sent_ms = now
                self.event(Level.NOTICE, "+slave-reconf-sent", replica)
                in_progress += 1
        self._failover_detect_end(master)

    def switch_to_promoted(self, master: Master) -> None:
        """UPDATE_CONFIG: the promoted replica becomes the monitored primary."""
        ref: Instance = master.promoted if master.promoted is not None else master
        self.event(
            Level.WARNING,
            "+switch-master",
            None,
            f"{master.name} {self.shown(master.addr)} {master.addr.port} "
            f"{self.shown(ref.addr)} {ref.addr.port}",
        )
        self.reset_master_and_change_address(master, ref.addr.hostname, ref.addr.port)

    def failover_step(self, master: Master) -> None:
        """sentinelFailoverStateMachine: one step of the failover in progress."""
        state = master.failover_state
        if state is FailoverState.WAIT_START:
            self._failover_wait_start(master)
        elif state is FailoverState.SELECT_REPLICA:
            self._failover_select_replica(master)
        elif state is FailoverState.SEND_REPLICAOF_NO_ONE:
            self._failover_send_replicaof_no_one(master)
        elif state is FailoverState.WAIT_PROMOTION:
            self._failover_wait_promotion(master)
        elif state is FailoverState.RECONF_REPLICAS:
            self._failover_reconf_next_replica(master)

    def abort_failover(self, master: Master) -> None:
        """Only before the promoted replica acknowledged; afterwards a failover completes."""
        assert master.failover_state <= FailoverState.WAIT_PROMOTION
        master.force_failover = False
        self._set_failover_state(master, FailoverState.NONE)
        if master.promoted is not None:
            master.promoted.promoted = False
            master.promoted = None

    def user_failover(self, master: Master) -> None:
        """SENTINEL FAILOVER: start now, without waiting to be elected."""
        logger.warning("Executing user requested FAILOVER of '%s'", master.name)
        self.start_failover(master)
        master.force_failover = True

    # --- the timer ---

    def handle_instance(self, ri: Instance) -> None:
        """sentinelHandleRedisInstance: monitor always, act unless in TILT."""
        self.reconnect(ri)
        self.send_periodic_commands(ri)
        if self.tilt:
            if self.now() - self.tilt_start_ms < self.periods.tilt_period:
                return
            self.tilt = False
            self.event(Level.WARNING, "-tilt", None, "#tilt mode exited")
        self.check_subjectively_down(ri)
        if isinstance(ri, Master):
            self.check_objectively_down(ri)
            if self.start_failover_if_needed(ri):
                self.ask_master_state(ri, True)
            self.failover_step(ri)
            self.ask_master_state(ri, False)

    def check_tilt(self) -> None:
        """TILT: the timer ran late by more than tilt-trigger, or the clock went back."""
        now = self.now()
        delta = now - self.previous_ms
        if delta < 0 or delta > self.periods.tilt_trigger:
            self.tilt = True
            self.tilt_start_ms = now
            self.event(Level.WARNING, "+tilt", None, "#tilt mode entered")
        self.previous_ms = now

    def timer(self) -> None:
        """sentinelTimer: called about ten times a second (with jitter, by the caller)."""
        self.check_tilt()
        switch_to: Master | None = None
        for master in list(self.masters.values()):
            if master.released:
                continue
            self.handle_instance(master)
            for replica in list(master.replicas.values()):
                self.handle_instance(replica)
            for peer in list(master.sentinels.values()):
                self.handle_instance(peer)
            if master.failover_state is FailoverState.UPDATE_CONFIG:
                switch_to = master
        if switch_to is not None:
            self.switch_to_promoted(switch_to)

    def start(self) -> None:
        """The timer is about to run: count time from now, not from when the configuration
        was read (startup must not look like a clock jump or an unanswered ping)."""
        now = self.now()
        self.previous_ms = now
        for master in self.masters.values():
            for ri in (master, *master.replicas.values(), *master.sentinels.values()):
                link = ri.link
                link.act_ping_ms = link.last_avail_ms = link.last_pong_ms = now
                ri.last_pub_ms = ri.last_hello_ms = ri.last_master_down_reply_ms = now
        self.generate_monitor_events()

    def generate_monitor_events(self) -> None:
        """+monitor for every configured primary, at startup."""
        for master in self.masters.values():
            self.event(Level.WARNING, "+monitor", master, f"quorum {master.quorum}")

    def drop_sentinel_connections(self) -> int:
        """sentinelDropConnections (after the credentials for monitors changed)."""
        dropped = 0
        for master in self.masters.values():
            for peer in master.sentinels.values():
                if not peer.link.disconnected:
                    self._close(peer.link, Channel.PUBSUB)
                    self._close(peer.link, Channel.COMMANDS)
                    dropped += 1
        return dropped

    def drop_instance_connections(self, master: Master) -> None:
        """dropInstanceConnections (after a primary's credentials changed)."""
        for ri in (master, *master.replicas.values()):
            self._close(ri.link, Channel.COMMANDS)
            self._close(ri.link, Channel.PUBSUB)


def _promotion_rank(replica: Replica) -> tuple[int, int, int, str]:
    """compareSlavesForPromotion as a sort key: priority, offset (higher first), run id
    (case-insensitive; a missing run id ranks last)."""
    runid = replica.runid
    return (
        replica.priority,
        -replica.repl_offset,
        1 if runid is None else 0,
        (runid or "").lower(),
    )


def _reply_text(reply: Any) -> str | None:
    """The text of a status or error reply (None for other reply types)."""
    if isinstance(reply, ErrorReply):
        return str(reply)
    if isinstance(reply, bytes):
        return reply.decode("utf-8", "replace")
    return None


def _ignore_event(event: Event) -> None:
    return None


def _always_saved() -> bool:
    return True


def _nothing() -> None:
    return None
