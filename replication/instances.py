"""What a failover monitor knows about each instance, and the actions it asks for; no I/O.

The model behind replication/failover.py: Sentinel's constants and periods, the enums that
name its states, the instances (a monitored primary, its replicas, the other monitors) with
the link whose times drive failure detection, and the `Connect` / `Send` / `Close` actions the
I/O layer performs. Field names follow sentinel.c's `sentinelRedisInstance` with units added.
"""

from __future__ import annotations

import enum
import ipaddress
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

HELLO_CHANNEL: Final = "__sentinel__:hello"
RUN_ID_SIZE: Final = 40
DEFAULT_REPLICA_PRIORITY: Final = 100
DEFAULT_PARALLEL_SYNCS: Final = 1
MAX_PENDING_COMMANDS: Final = 100
MAX_DESYNC_MS: Final = 1000
DEFAULT_PORT: Final = 26379


@dataclass(slots=True)
class Periods:
    """Sentinel's timing constants, in milliseconds (what SENTINEL DEBUG shows and sets)."""

    info_period: int = 10_000
    ping_period: int = 1_000
    ask_period: int = 1_000
    publish_period: int = 2_000
    default_down_after: int = 30_000
    default_failover_timeout: int = 180_000
    tilt_trigger: int = 2_000
    tilt_period: int = 30_000
    slave_reconf_timeout: int = 10_000
    min_link_reconnect_period: int = 15_000
    election_timeout: int = 10_000
    script_max_runtime: int = 60_000
    script_retry_delay: int = 30_000


# SENTINEL DEBUG's names for the periods, in its order.
DEBUG_PERIODS: Final = (
    ("INFO-PERIOD", "info_period"),
    ("PING-PERIOD", "ping_period"),
    ("ASK-PERIOD", "ask_period"),
    ("PUBLISH-PERIOD", "publish_period"),
    ("DEFAULT-DOWN-AFTER", "default_down_after"),
    ("DEFAULT-FAILOVER-TIMEOUT", "default_failover_timeout"),
    ("TILT-TRIGGER", "tilt_trigger"),
    ("TILT-PERIOD", "tilt_period"),
    ("SLAVE-RECONF-TIMEOUT", "slave_reconf_timeout"),
    ("MIN-LINK-RECONNECT-PERIOD", "min_link_reconnect_period"),
    ("ELECTION-TIMEOUT", "election_timeout"),
    ("SCRIPT-MAX-RUNTIME", "script_max_runtime"),
    ("SCRIPT-RETRY-DELAY", "script_retry_delay"),
)


class Kind(enum.Enum):
    """What an instance is in our configuration (its value is Sentinel's spelling)."""

    MASTER = "master"
    REPLICA = "slave"
    SENTINEL = "sentinel"


class FailoverState(enum.IntEnum):
    """A primary's failover, in Sentinel's order (later states compare greater)."""

    NONE = 0
    WAIT_START = 1  # elected? (wait for the votes)
    SELECT_REPLICA = 2
    SEND_REPLICAOF_NO_ONE = 3
    WAIT_PROMOTION = 4  # until the chosen replica's INFO says role:master
    RECONF_REPLICAS = 5  # repoint the other replicas, parallel-syncs at a time
    UPDATE_CONFIG = 6  # switch our configuration to the promoted replica

    @property
    def label(self) -> str:
        """The name SENTINEL MASTER prints as failover-state."""
        return _FAILOVER_LABELS[self]


_FAILOVER_LABELS: Final = {
    FailoverState.NONE: "none",
    FailoverState.WAIT_START: "wait_start",
    FailoverState.SELECT_REPLICA: "select_slave",
    FailoverState.SEND_REPLICAOF_NO_ONE: "send_slaveof_noone",
    FailoverState.WAIT_PROMOTION: "wait_promotion",
    FailoverState.RECONF_REPLICAS: "reconf_slaves",
    FailoverState.UPDATE_CONFIG: "update_config",
}


class ReconfState(enum.Enum):
    """A replica being repointed to the promoted one (its value is the flag's name)."""

    NONE = ""
    SENT = "reconf_sent"  # REPLICAOF <new primary> sent
    IN_PROGRESS = "reconf_inprog"  # its INFO names the new primary
    DONE = "reconf_done"  # its link to the new primary is up


class Channel(enum.Enum):
    """The two connections of a link: commands, and the hello subscription."""

    COMMANDS = "cmd"
    PUBSUB = "pubsub"


class Level(enum.IntEnum):
    """Event levels, as Redis's log levels (DEBUG events are not published)."""

    DEBUG = 0
    VERBOSE = 1
    NOTICE = 2
    WARNING = 3


class ErrorReply(str):
    """An error reply from an instance: its text, code first ("LOADING ...")."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Event:
    """A Sentinel event: published on the channel `type` with `message` as the payload."""

    level: Level
    type: str
    message: str


# --- actions for the I/O layer ---


@dataclass(eq=False, slots=True)
class Connect:
    """Open a connection; later Sends and a Close name it. For the pub/sub channel,
    `on_message` receives every frame after the subscription."""

    link: Link
    channel: Channel
    host: str
    port: int


@dataclass(eq=False, slots=True)
class Send:
    """Send one command on a connection; `on_reply` gets its reply (an ErrorReply for an
    error). `persistent`: the callback also receives every later frame (SUBSCRIBE)."""

    conn: Connect
    argv: list[bytes]
    on_reply: Callable[[Any], None]
    persistent: bool = False


@dataclass(eq=False, slots=True)
class Close:
    """Close a connection, after writing what was sent on it; its pending replies are
    dropped, their callbacks never called."""

    conn: Connect


Action = Connect | Send | Close


class InstanceError(Exception):
    """An instance could not be created; `text` is Sentinel's message for it."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


# --- addresses ---


@dataclass(slots=True)
class Address:
    """An instance's address: the name as given, the resolved ip (may be "" when a
    hostname could not be resolved yet) and the port."""

    hostname: str
    ip: str
    port: int

    def same_as(self, other: Address) -> bool:
        """sentinelAddrOrHostnameEqual."""
        return self.port == other.port and (
            self.ip == other.ip or self.hostname.lower() == other.hostname.lower()
        )


def is_ip_literal(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# --- links and instances ---


class Link:
    """The connections to one instance and the times failure detection needs.

    Links to other monitors are shared between the instances that stand for the same
    monitor under different primaries (`refcount`), as Sentinel shares them.
    """

    __slots__ = (
        "act_ping_ms",
        "cc",
        "cc_conn_ms",
        "last_avail_ms",
        "last_ping_ms",
        "last_pong_ms",
        "last_reconn_ms",
        "local_ip",
        "pc",
        "pc_conn_ms",
        "pc_last_activity_ms",
        "pending_commands",
        "refcount",
        "wants_pubsub",
    )

    def __init__(self, now: int, wants_pubsub: bool) -> None:
        self.refcount = 1
        self.wants_pubsub = wants_pubsub  # primaries and replicas, not monitors
        self.cc: Connect | None = None
        self.pc: Connect | None = None
        self.local_ip: str | None = None  # our end of the commands connection
        self.pending_commands = 0
        self.cc_conn_ms = 0
        self.pc_conn_ms = 0
        self.pc_last_activity_ms = 0
        # Counting from creation makes an instance we never reach time out like one that
        # stopped answering.
        self.act_ping_ms = now
        self.last_ping_ms = 0
        self.last_avail_ms = now
        self.last_pong_ms = now
        self.last_reconn_ms = 0

    @property
    def disconnected(self) -> bool:
        return self.cc is None or (self.wants_pubsub and self.pc is None)


class Instance:
    """What Sentinel knows about one primary, replica or monitor (sentinelRedisInstance).

    The replication fields are read from INFO whatever the instance is, because a primary
    may report itself a replica and the reverse.
    """

    kind: Kind

    def __init__(self, kind: Kind, name: str, addr: Address, now: int, down_after_ms: int):
        self.kind = kind
        self.name = name
        self.addr = addr
        self.runid: str | None = None
        self.link = Link(now, kind is not Kind.SENTINEL)
        self.released = False
        self.last_pub_ms = now
        self.last_hello_ms = now
        self.last_master_down_reply_ms = now
        self.s_down = False
        self.o_down = False
        self.s_down_since_ms = 0
        self.o_down_since_ms = 0
        self.script_kill_sent = False
        self.down_after_ms = down_after_ms
        self.info_refresh_ms = 0
        self.info: str | None = None
        self.role_reported: Kind | None = kind if kind is not Kind.SENTINEL else None
        self.role_reported_ms = now
        self.replica_conf_change_ms = now
        # From INFO (replication section).
        self.master_link_down_ms = 0
        self.priority = DEFAULT_REPLICA_PRIORITY
        self.replica_announced = 1
        self.master_host: str | None = None
        self.master_port = 0
        self.master_link_up = False
        self.repl_offset = 0

    @property
    def primary(self) -> Master:
        """The primary this instance belongs to (itself for a primary)."""
        raise NotImplementedError


class Master(Instance):
    """A monitored primary, with its replicas and the other monitors watching it."""

    kind = Kind.MASTER

    def __init__(self, name: str, addr: Address, now: int, quorum: int, periods: Periods):
        super().__init__(Kind.MASTER, name, addr, now, periods.default_down_after)
        self.config_epoch = 0
        self.replicas: dict[str, Replica] = {}
        self.sentinels: dict[str, PeerSentinel] = {}
        self.quorum = quorum
        self.parallel_syncs = DEFAULT_PARALLEL_SYNCS
        self.auth_pass: str | None = None
        self.auth_user: str | None = None
        self.renamed_commands: dict[str, str] = {}  # lower-case name -> name to send
        self.notification_script: str | None = None
        self.client_reconfig_script: str | None = None
        self.master_reboot_down_after_ms = 0
        self.master_reboot = False
        self.master_reboot_since_ms = 0
        # Our vote for this primary's failover leader, and its epoch.
        self.leader: str | None = None
        self.leader_epoch = 0
        self.failover_epoch = 0
        self.failover_state = FailoverState.NONE
        self.failover_state_change_ms = 0
        self.failover_start_ms = 0
        self.failover_timeout_ms = periods.default_failover_timeout
        self.failover_delay_logged = 0
        self.force_failover = False
        self.promoted: Replica | None = None

    @property
    def primary(self) -> Master:
        return self

    @property
    def failover_in_progress(self) -> bool:
        return self.failover_state is not FailoverState.NONE


class Replica(Instance):
    """A replica of a monitored primary (named "ip:port")."""

    kind = Kind.REPLICA

    def __init__(self, name: str, addr: Address, now: int, master: Master) -> None:
        super().__init__(Kind.REPLICA, name, addr, now, master.down_after_ms)
        self.master = master
        self.promoted = False
        self.reconf = ReconfState.NONE
        self.reconf_sent_ms = 0
        # Fencing: our CLIENT PAUSE WRITE on it lasts until then (0: not paused by us).
        self.fenced_until_ms = 0

    @property
    def primary(self) -> Master:
        return self.master


class PeerSentinel(Instance):
    """Another monitor watching the same primary (named by its run id)."""

    kind = Kind.SENTINEL

    def __init__(self, name: str, addr: Address, now: int, master: Master) -> None:
        super().__init__(Kind.SENTINEL, name, addr, now, master.down_after_ms)
        self.master = master
        # Its last answer to is-master-down-by-addr: down, and whom it voted for.
        self.master_down = False
        self.leader: str | None = None
        self.leader_epoch = 0

    @property
    def primary(self) -> Master:
        return self.master


def atoi(text: str) -> int:
    """C's atoi/strtoll: an optional sign and the digits that follow, 0 when there are none."""
    text = text.lstrip(" \t\n\v\f\r")
    sign = 1
    if text[:1] in ("-", "+"):
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    digits = ""
    for ch in text:
        if not "0" <= ch <= "9":
            break
        digits += ch
    return sign * int(digits) if digits else 0


def flags_text(ri: Instance) -> str:
    """The `flags` field of SENTINEL MASTER / REPLICAS / SENTINELS, in Sentinel's order."""
    out = []
    if ri.s_down:
        out.append("s_down")
    if ri.o_down:
        out.append("o_down")
    out.append(ri.kind.value)
    if ri.link.disconnected:
        out.append("disconnected")
    if isinstance(ri, PeerSentinel) and ri.master_down:
        out.append("master_down")
    if isinstance(ri, Master):
        if ri.failover_in_progress:
            out.append("failover_in_progress")
    elif isinstance(ri, Replica):
        if ri.promoted:
            out.append("promoted")
        if ri.reconf is not ReconfState.NONE:
            out.append(ri.reconf.value)
    if isinstance(ri, Master) and ri.force_failover:
        out.append("force_failover")
    if ri.script_kill_sent:
        out.append("script_kill_sent")
    return ",".join(out)


def new_run_id(rng: random.Random | None = None) -> str:
    """40 random hex characters (getRandomHexChars)."""
    r = rng or random.SystemRandom()
    return "".join(r.choice("0123456789abcdef") for _ in range(RUN_ID_SIZE))
