"""The failover monitor's state machines, in-process on a fake clock and a fake network."""

from __future__ import annotations

import random
import re

import pytest

from replication.failover import Monitor
from replication.instances import (
    Connect,
    Event,
    FailoverState,
    Kind,
    Master,
    ReconfState,
    Replica,
    Send,
    flags_text,
    new_run_id,
)
from storage.clock import FakeClock
from tests.unit.replication.fake_network import FakeNetwork, FakeRedis


def make_monitor(clock: FakeClock, seed: int = 0) -> tuple[Monitor, list[Event]]:
    monitor = Monitor(clock, random.Random(seed))
    monitor.myid = new_run_id(random.Random(seed + 1000))
    events: list[Event] = []
    monitor.on_event = events.append
    return monitor, events


def kinds(events: list[Event], type_: str) -> list[str]:
    return [e.message for e in events if e.type == type_]


class Group:
    """A primary on 7000, replicas on 7001 (priority 100) and 7002 (priority 50), and
    `count` monitors on 26379+ with quorum 2, down-after 1000 ms, failover-timeout 5000."""

    def __init__(self, count: int = 3, quorum: int = 2) -> None:
        self.net = FakeNetwork()
        self.primary = self.net.add_redis(7000)
        self.r1 = self.net.add_redis(7001, primary=("127.0.0.1", 7000), offset=100)
        self.r2 = self.net.add_redis(7002, primary=("127.0.0.1", 7000), offset=100, priority=50)
        self.monitors: list[Monitor] = []
        self.events: list[list[Event]] = []
        for i in range(count):
            monitor, events = make_monitor(self.net.clock, seed=i)
            master = monitor.add_master("mymaster", "127.0.0.1", 7000, quorum)
            master.down_after_ms = 1000
            master.failover_timeout_ms = 5000
            self.net.add_monitor(26379 + i, monitor)
            self.monitors.append(monitor)
            self.events.append(events)

    def master(self, i: int = 0) -> Master:
        return self.monitors[i].masters["mymaster"]

    def all_events(self, type_: str) -> list[str]:
        return [m for events in self.events for m in kinds(events, type_)]

    def settle(self, ms: int = 3000) -> None:
        """Let the monitors discover the replicas and each other (hello every 2 s)."""
        self.net.run_for(ms)


# --- detection ---


def test_replicas_are_discovered_from_the_primarys_info() -> None:
    group = Group(count=1)
    group.settle(500)
    master = group.master()
    assert sorted(master.replicas) == ["127.0.0.1:7001", "127.0.0.1:7002"]
    assert kinds(group.events[0], "+slave") == [
        "slave 127.0.0.1:7001 127.0.0.1 7001 @ mymaster 127.0.0.1 7000",
        "slave 127.0.0.1:7002 127.0.0.1 7002 @ mymaster 127.0.0.1 7000",
    ]


def test_old_format_slave_lines_are_read_too() -> None:
    clock = FakeClock()
    monitor, _ = make_monitor(clock)
    master = monitor.add_master("m", "127.0.0.1", 7000, 1)
    monitor.refresh_info(master, "role:master\r\nslave0:127.0.0.1,7005,online\r\n")
    assert list(master.replicas) == ["127.0.0.1:7005"]


def test_monitors_discover_each_other_through_hello() -> None:
    group = Group()
    group.settle()
    for i in range(len(group.monitors)):
        others = {m.myid for j, m in enumerate(group.monitors) if j != i}
        assert set(group.master(i).sentinels) == others
        assert all(p.addr.port in (26379, 26380, 26381) for p in group.master(i).sentinels.values())


def test_hello_payload_has_sentinels_fields() -> None:
    group = Group(count=1)
    group.settle(2500)
    published = [c for c in group.primary.commands if c[0] == b"PUBLISH"]
    assert published
    monitor = group.monitors[0]
    assert published[0][1] == b"__sentinel__:hello"
    assert published[0][2].decode() == (
        f"127.0.0.1,26379,{monitor.myid},0,mymaster,127.0.0.1,7000,0"
    )


def test_subjectively_down_only_after_down_after_milliseconds() -> None:
    group = Group(count=1)
    group.settle(1000)
    group.net.kill(group.primary)
    master = group.master()
    group.net.run_for(900)
    assert not master.s_down
    group.net.run_for(600)
    assert group.master().s_down
    assert kinds(group.events[0], "+sdown") == ["master mymaster 127.0.0.1 7000"]
    # Alone with quorum 2: never objectively down, never a failover.
    group.net.run_for(5000)
    assert not master.o_down
    assert master.failover_state is FailoverState.NONE


def test_sdown_clears_when_the_primary_answers_again() -> None:
    group = Group(count=1)
    group.settle(1000)
    group.net.kill(group.primary)
    group.net.run_for(1500)
    group.net.restart(group.primary)
    group.net.run_for(1500)
    assert not group.master().s_down
    assert kinds(group.events[0], "-sdown") == ["master mymaster 127.0.0.1 7000"]


def test_objectively_down_when_quorum_agrees() -> None:
    group = Group()
    group.settle()
    group.net.kill(group.primary)
    group.net.run_for(2500)
    odown = group.all_events("+odown")
    assert odown
    assert all(m.startswith("master mymaster 127.0.0.1 7000 #quorum ") for m in odown)
    assert all(m.endswith("/2") and int(m.split()[-1].split("/")[0]) >= 2 for m in odown)


def test_no_objective_down_without_the_quorum() -> None:
    group = Group(quorum=3)
    group.settle()
    # One monitor cannot reach the primary; the other two still can.
    lonely = group.monitors[0]
    group.net.cut.add((id(lonely), group.primary.addr))
    for conn, (owner, addr) in list(group.net.conns.items()):
        if owner is lonely and addr == group.primary.addr:
            del group.net.conns[conn]
            lonely.connection_lost(conn)
    group.net.run_for(3000)
    assert group.master(0).s_down
    assert not group.master(0).o_down
    assert not group.all_events("+odown")


# --- election ---


def test_one_vote_per_epoch() -> None:
    clock = FakeClock()
    monitor, events = make_monitor(clock)
    master = monitor.add_master("m", "127.0.0.1", 7000, 2)
    a, b = "a" * 40, "b" * 40
    assert monitor.vote_leader(master, 5, a) == (a, 5)
    assert monitor.current_epoch == 5
    # Same epoch: the first vote stands.
    assert monitor.vote_leader(master, 5, b) == (a, 5)
    # An older epoch changes nothing either.
    assert monitor.vote_leader(master, 4, b) == (a, 5)
    # A new epoch gets a new vote.
    assert monitor.vote_leader(master, 6, b) == (b, 6)
    assert kinds(events, "+vote-for-leader") == [
        f"master m 127.0.0.1 7000 {a} 5",
        f"master m 127.0.0.1 7000 {b} 6",
    ]


def test_the_vote_is_saved_before_it_is_returned() -> None:
    clock = FakeClock()
    monitor, _ = make_monitor(clock)
    master = monitor.add_master("m", "127.0.0.1", 7000, 2)
    saved: list[tuple[int, str | None, int]] = []

    def flush() -> bool:
        saved.append((monitor.current_epoch, master.leader, master.leader_epoch))
        return True

    monitor.flush_config = flush
    leader, epoch = monitor.vote_leader(master, 3, "c" * 40)
    assert (leader, epoch) == ("c" * 40, 3)
    # The epoch was saved, then the vote, both before the vote came back.
    assert saved == [(3, None, 0), (3, "c" * 40, 3)]


def test_a_vote_that_cannot_be_saved_is_not_given() -> None:
    clock = FakeClock()
    monitor, events = make_monitor(clock)
    master = monitor.add_master("m", "127.0.0.1", 7000, 2)
    monitor.flush_config = lambda: False
    assert monitor.vote_leader(master, 3, "c" * 40) == (None, 0)
    assert not kinds(events, "+vote-for-leader")
    # Once saving works again, the vote for the same epoch can be given.
    monitor.flush_config = lambda: True
    assert monitor.vote_leader(master, 3, "c" * 40) == ("c" * 40, 3)


def test_voting_for_another_delays_our_own_failover() -> None:
    clock = FakeClock()
    monitor, _ = make_monitor(clock)
    master = monitor.add_master("m", "127.0.0.1", 7000, 2)
    monitor.vote_leader(master, 1, "d" * 40)
    assert clock.ms <= master.failover_start_ms < clock.ms + 1000


def test_leader_needs_a_majority_and_the_quorum() -> None:
    group = Group(count=1)
    group.settle(500)
    monitor = group.monitors[0]
    master = group.master()
    peers = [
        monitor.add_sentinel(master, new_run_id(random.Random(50 + i)), "127.0.0.1", 27000 + i)
        for i in range(4)
    ]
    monitor.current_epoch = 7
    other = peers[0].name
    # 5 voters: 3 votes are needed. Two peers voted for `other`, and we follow them.
    for peer in peers[:2]:
        peer.leader, peer.leader_epoch = other, 7
    assert monitor.get_leader(master, 7) == other
    assert master.leader == other
    # Votes of an older epoch do not count.
    master2 = monitor.add_master("m2", "127.0.0.1", 7100, 2)
    for i in range(4):
        p = monitor.add_sentinel(master2, peers[i].name, "127.0.0.1", 27000 + i)
        p.leader, p.leader_epoch = other, 6
    assert monitor.get_leader(master2, 7) is None


def test_leader_with_quorum_higher_than_majority() -> None:
    clock = FakeClock()
    monitor, _ = make_monitor(clock)
    master = monitor.add_master("m", "127.0.0.1", 7000, 3)
    peer = monitor.add_sentinel(master, "e" * 40, "127.0.0.1", 27000)
    monitor.current_epoch = 1
    peer.leader, peer.leader_epoch = monitor.myid, 1
    # 2 of 2 voters is a majority, but the quorum asks for 3.
    assert monitor.get_leader(master, 1) is None


# --- replica selection ---


def _ready_replica(monitor: Monitor, master: Master, port: int, **fields: object) -> Replica:
    replica = monitor.add_replica(master, "127.0.0.1", port)
    replica.link.cc = object()  # type: ignore[assignment]
    replica.link.pc = object()  # type: ignore[assignment]
    replica.info_refresh_ms = monitor.now()
    replica.runid = fields.pop("runid", new_run_id())  # type: ignore[assignment]
    for name, value in fields.items():
        setattr(replica, name, value)
    return replica


def test_select_replica_by_priority_then_offset_then_runid() -> None:
    clock = FakeClock()
    monitor, _ = make_monitor(clock)
    master = monitor.add_master("m", "127.0.0.1", 7000, 1)
    high = _ready_replica(monitor, master, 7001, priority=100, repl_offset=900, runid="b" * 40)
    low = _ready_replica(monitor, master, 7002, priority=10, repl_offset=5)
    # Lowest priority first, whatever the offsets.
    assert monitor.select_replica(master) is low
    # At equal priority, the highest offset.
    low.priority = 100
    assert monitor.select_replica(master) is high
    # At equal offset, the smallest run id (compared without case).
    a = _ready_replica(monitor, master, 7003, priority=100, repl_offset=900, runid="A" * 40)
    assert monitor.select_replica(master) is a


@pytest.mark.parametrize(
    "spoil",
    [
        "s_down",
        "disconnected",
        "priority_zero",
        "stale_info",
        "no_ping_reply",
        "link_down_too_long",
    ],
)
def test_select_replica_excludes(spoil: str) -> None:
    clock = FakeClock()
    monitor, _ = make_monitor(clock)
    master = monitor.add_master("m", "127.0.0.1", 7000, 1)
    master.down_after_ms = 1000
    clock.advance(60_000)
    replica = _ready_replica(monitor, master, 7001)
    replica.link.last_avail_ms = clock.ms
    assert monitor.select_replica(master) is replica
    if spoil == "s_down":
        replica.s_down = True
    elif spoil == "disconnected":
        replica.link.pc = None
    elif spoil == "priority_zero":
        replica.priority = 0
    elif spoil == "stale_info":
        replica.info_refresh_ms = clock.ms - 30_001
    elif spoil == "no_ping_reply":
        replica.link.last_avail_ms = clock.ms - 5001
    else:
        replica.master_link_down_ms = 10_001
    assert monitor.select_replica(master) is None


# --- the whole failover ---


def test_failover_with_three_monitors() -> None:
    group = Group()
    group.settle()
    group.net.kill(group.primary)
    group.net.run_for(12_000)
    # One leader, elected once.
    elected = group.all_events("+elected-leader")
    assert elected == ["master mymaster 127.0.0.1 7000"]
    # The replica with the best priority (7002, priority 50) was promoted, the other
    # repointed to it.
    assert group.r2.primary is None
    assert group.r1.primary == ("127.0.0.1", 7002)
    assert group.r2.replicaof_log == [("NO", "ONE")]
    switches = group.all_events("+switch-master")
    assert switches == ["mymaster 127.0.0.1 7000 127.0.0.1 7002"] * 3
    for i in range(3):
        master = group.master(i)
        assert (master.addr.ip, master.addr.port) == ("127.0.0.1", 7002)
        assert master.config_epoch == 1
        assert sorted(master.replicas) == ["127.0.0.1:7000", "127.0.0.1:7001"]
    assert all(m.current_epoch == 1 for m in group.monitors)


def test_promotion_and_repointing_use_sentinels_multi_block() -> None:
    group = Group()
    group.settle()
    group.net.kill(group.primary)
    group.net.run_for(12_000)
    block = [
        c
        for c in group.r2.commands
        if c[0] in (b"MULTI", b"SLAVEOF", b"CONFIG", b"CLIENT", b"EXEC")
        and c[:2] != [b"CLIENT", b"SETNAME"]
    ]
    assert block == [
        [b"MULTI"],
        [b"SLAVEOF", b"NO", b"ONE"],
        [b"CONFIG", b"REWRITE"],
        [b"CLIENT", b"KILL", b"TYPE", b"normal"],
        [b"CLIENT", b"KILL", b"TYPE", b"pubsub"],
        [b"EXEC"],
    ]
    repoint = [c for c in group.r1.commands if c[0] == b"SLAVEOF"]
    assert repoint == [[b"SLAVEOF", b"127.0.0.1", b"7002"]]


def test_highest_offset_wins_at_equal_priority() -> None:
    group = Group()
    group.r2.priority = 100
    group.r1.offset = 500
    group.settle()
    group.net.kill(group.primary)
    group.net.run_for(12_000)
    assert group.r1.primary is None
    assert group.all_events("+switch-master")[0] == "mymaster 127.0.0.1 7000 127.0.0.1 7001"


def test_failover_state_machine_goes_through_every_state() -> None:
    group = Group()
    group.settle()
    group.net.kill(group.primary)
    seen: list[FailoverState] = []
    for _ in range(120):
        group.net.run_for(100)
        for i in range(3):
            state = group.master(i).failover_state
            if state is not FailoverState.NONE and state not in seen:
                seen.append(state)
    assert seen[0] is FailoverState.WAIT_START
    assert FailoverState.WAIT_PROMOTION in seen
    assert FailoverState.RECONF_REPLICAS in seen


def test_not_elected_failover_is_aborted() -> None:
    group = Group(count=1, quorum=1)
    group.settle(500)
    monitor = group.monitors[0]
    master = group.master()
    # A peer that never answers but counts as a voter: 2 voters, a majority needs 2.
    peer = monitor.add_sentinel(master, "f" * 40, "127.0.0.1", 27999)
    group.net.kill(group.primary)
    group.net.run_for(8000)
    assert kinds(group.events[0], "+try-failover")
    assert kinds(group.events[0], "-failover-abort-not-elected")
    assert master.failover_state is FailoverState.NONE
    assert peer.leader is None


def test_no_good_replica_aborts() -> None:
    group = Group(count=1, quorum=1)
    group.r1.priority = 0
    group.r2.priority = 0
    group.settle(500)
    group.net.kill(group.primary)
    group.net.run_for(4000)
    assert kinds(group.events[0], "-failover-abort-no-good-slave")


def test_force_failover_needs_no_election() -> None:
    group = Group(count=1, quorum=1)
    group.settle(500)
    monitor = group.monitors[0]
    master = group.master()
    monitor.add_sentinel(master, "f" * 40, "127.0.0.1", 27999)  # would block an election
    monitor.user_failover(master)
    assert "force_failover" in flags_text(master)
    group.net.run_for(4000)
    assert group.r2.primary is None
    assert kinds(group.events[0], "+switch-master") == ["mymaster 127.0.0.1 7000 127.0.0.1 7002"]


def test_newer_config_in_a_hello_switches_the_primary() -> None:
    clock = FakeClock()
    monitor, events = make_monitor(clock)
    master = monitor.add_master("m", "127.0.0.1", 7000, 2)
    monitor.add_replica(master, "127.0.0.1", 7001)
    peer_id = "9" * 40
    monitor.process_hello(f"127.0.0.1,26390,{peer_id},4,m,127.0.0.1,7001,4")
    assert kinds(events, "+new-epoch") == ["master m 127.0.0.1 7000 4"]
    assert kinds(events, "+switch-master") == ["m 127.0.0.1 7000 127.0.0.1 7001"]
    assert (master.addr.port, master.config_epoch, monitor.current_epoch) == (7001, 4, 4)
    assert list(master.replicas) == ["127.0.0.1:7000"]
    # An older config changes nothing.
    monitor.process_hello(f"127.0.0.1,26390,{peer_id},4,m,127.0.0.1,7000,3")
    assert master.addr.port == 7001


def test_a_switch_keeps_no_stale_down_answers_and_connects_at_once() -> None:
    """Switch without stale votes (an addition to Sentinel): right after +switch-master the
    new primary is connected at the next tick, and the other monitors' "down" answers about
    the old primary do not make it objectively down."""
    clock = FakeClock()
    monitor, events = make_monitor(clock)
    master = monitor.add_master("m", "127.0.0.1", 7000, 2)
    master.down_after_ms = 1000
    monitor.add_replica(master, "127.0.0.1", 7001)
    peers = [
        monitor.add_sentinel(master, c * 40, "127.0.0.1", 26390 + i) for i, c in enumerate("ab")
    ]
    for peer in peers:
        peer.master_down = True  # they answered that 7000 was down
        peer.last_master_down_reply_ms = clock.now_ms()
    master.link.last_reconn_ms = clock.now_ms()  # just tried the dead primary again
    clock.advance(50)
    monitor.process_hello(f"127.0.0.1,26390,{'a' * 40},1,m,127.0.0.1,7001,1")
    assert kinds(events, "+switch-master") == ["m 127.0.0.1 7000 127.0.0.1 7001"]
    assert not any(peer.master_down for peer in peers)
    monitor.outbox.clear()
    clock.advance(100)
    monitor.timer()
    connects = [a for a in monitor.outbox if isinstance(a, Connect) and a.link is master.link]
    assert [(c.host, c.port) for c in connects] == [("127.0.0.1", 7001), ("127.0.0.1", 7001)]
    # Even if it stayed silent past down-after, one monitor alone does not make it ODOWN.
    clock.advance(1000)
    monitor.timer()
    assert master.s_down
    assert not master.o_down
    assert kinds(events, "+odown") == []


# --- fencing ---


def test_returning_old_primary_is_paused_then_converted() -> None:
    group = Group()
    group.settle()
    old = group.primary
    group.net.kill(old)
    group.net.run_for(12_000)
    assert group.r2.primary is None
    # The old primary comes back as a primary (restarted without its old role).
    group.net.restart(old, as_primary=True)
    group.net.run_for(1500)
    # Paused for writes at once...
    pauses = [c for c in old.commands if c[:2] == [b"CLIENT", b"PAUSE"]]
    assert pauses
    assert pauses[0][3] == b"WRITE"
    assert old.paused_writes_until > group.net.clock.ms
    assert group.primary.primary is None
    # ...and turned into a replica of the new primary once Sentinel's wait is over.
    group.net.run_for(9000)
    assert old.primary == ("127.0.0.1", 7002)
    assert old.paused_writes_until == 0  # released by the CLIENT UNPAUSE in the MULTI
    converted = group.all_events("+convert-to-slave")
    assert converted
    assert converted[0] == "slave 127.0.0.1:7000 127.0.0.1 7000 @ mymaster 127.0.0.1 7002"
    multi = old.commands[old.commands.index([b"MULTI"]) :]
    assert multi[:7] == [
        [b"MULTI"],
        [b"SLAVEOF", b"127.0.0.1", b"7002"],
        [b"CONFIG", b"REWRITE"],
        [b"CLIENT", b"KILL", b"TYPE", b"normal"],
        [b"CLIENT", b"KILL", b"TYPE", b"pubsub"],
        [b"CLIENT", b"UNPAUSE"],
        [b"EXEC"],
    ]


def test_no_hello_is_published_to_a_fenced_instance() -> None:
    group = Group(count=1, quorum=1)
    group.settle(500)
    group.net.kill(group.primary)
    group.net.run_for(6000)
    group.net.restart(group.primary, as_primary=True)
    group.net.run_for(1500)
    old = group.primary
    first_pause = next(i for i, c in enumerate(old.commands) if c[:2] == [b"CLIENT", b"PAUSE"])
    assert not [c for c in old.commands[first_pause:] if c[0] == b"PUBLISH"]


def test_a_replica_reporting_the_wrong_primary_is_fixed() -> None:
    group = Group(count=1)
    group.settle(500)
    group.r1.primary = ("127.0.0.1", 7999)
    group.net.run_for(20_000)
    assert group.r1.primary == ("127.0.0.1", 7000)
    assert kinds(group.events[0], "+fix-slave-config")


# --- TILT ---


def test_clock_jump_enters_tilt_and_nothing_is_acted_on() -> None:
    group = Group(count=1)
    group.settle(500)
    group.net.kill(group.primary)
    group.net.clock.advance(3000)  # the timer did not run for 3 s: TILT
    group.net.step(100)
    monitor = group.monitors[0]
    assert monitor.tilt
    assert kinds(group.events[0], "+tilt") == ["#tilt mode entered"]
    group.net.run_for(10_000)
    assert not group.master().s_down  # not acted on during TILT
    group.net.run_for(21_000)
    assert not group.monitors[0].tilt
    assert kinds(group.events[0], "-tilt") == ["#tilt mode exited"]
    group.net.run_for(200)
    assert group.master().s_down


def test_clock_going_back_enters_tilt() -> None:
    clock = FakeClock()
    monitor, _ = make_monitor(clock)
    monitor.timer()
    clock.advance(-500)
    monitor.timer()
    assert monitor.tilt


def test_is_master_down_is_never_yes_in_tilt() -> None:
    group = Group(count=2, quorum=2)
    group.settle()
    a = group.monitors[0]
    group.net.kill(group.primary)
    group.net.run_for(1500)
    assert group.master(1).s_down
    group.monitors[1].tilt = True
    group.monitors[1].tilt_start_ms = group.net.clock.ms
    group.net.run_for(3000)
    assert not group.master(0).o_down
    assert a.masters["mymaster"].s_down


# --- instance model ---


def test_flags_text_in_sentinels_order() -> None:
    clock = FakeClock()
    monitor, _ = make_monitor(clock)
    master = monitor.add_master("m", "127.0.0.1", 7000, 2)
    assert flags_text(master) == "master,disconnected"
    master.s_down = master.o_down = True
    master.failover_state = FailoverState.WAIT_START
    assert flags_text(master) == "s_down,o_down,master,disconnected,failover_in_progress"
    replica = monitor.add_replica(master, "127.0.0.1", 7001)
    replica.promoted = True
    replica.reconf = ReconfState.SENT
    assert flags_text(replica) == "slave,disconnected,promoted,reconf_sent"
    assert replica.kind is Kind.REPLICA


def test_duplicate_instances_are_refused() -> None:
    from replication.instances import InstanceError

    clock = FakeClock()
    monitor, _ = make_monitor(clock)
    master = monitor.add_master("m", "127.0.0.1", 7000, 2)
    with pytest.raises(InstanceError, match=re.escape("Duplicate master name.")):
        monitor.add_master("m", "127.0.0.1", 7001, 2)
    monitor.add_replica(master, "127.0.0.1", 7001)
    with pytest.raises(InstanceError, match=re.escape("Duplicate hostname and port for replica.")):
        monitor.add_replica(master, "127.0.0.1", 7001)
    with pytest.raises(InstanceError, match=re.escape("Invalid port number.")):
        monitor.add_master("x", "127.0.0.1", 70000, 2)
    with pytest.raises(InstanceError, match=re.escape("Can't resolve instance hostname.")):
        monitor.add_master("y", "localhost", 7000, 2)


def test_sends_carry_pending_command_counts() -> None:
    group = Group(count=1)
    monitor = group.monitors[0]
    link = group.master().link
    monitor.timer()
    sends = [a for a in monitor.outbox if isinstance(a, Send) and not a.persistent]
    assert [s.argv[0] for s in sends] == [b"CLIENT", b"PING", b"CLIENT", b"INFO"]
    assert link.pending_commands == len(sends)
    group.net.run()
    assert link.pending_commands == 0  # every command was answered


def test_reset_forgets_replicas_and_failover() -> None:
    group = Group(count=1)
    group.settle(500)
    monitor = group.monitors[0]
    master = group.master()
    monitor.user_failover(master)
    events = group.events[0]
    assert monitor.reset_masters_by_pattern("my*", 2) == 1
    assert master.replicas == {}
    assert master.failover_state is FailoverState.NONE
    assert kinds(events, "+reset-master") == ["master mymaster 127.0.0.1 7000"]
    assert monitor.reset_masters_by_pattern("nomatch", 2) == 0


def test_fake_redis_helper_tracks_replicas() -> None:
    net = FakeNetwork()
    p = net.add_redis(7000)
    r = net.add_redis(7001, primary=p.addr)
    assert net.replicas_of(p) == [r]
    assert isinstance(r, FakeRedis)


def test_a_slow_startup_is_neither_a_down_primary_nor_a_clock_jump() -> None:
    group = Group(count=1)
    group.net.clock.advance(5000)  # config read, then a slow start before the first tick
    group.monitors[0].start()
    group.net.run_for(500)
    assert not group.monitors[0].tilt
    assert not kinds(group.events[0], "+sdown")
    assert kinds(group.events[0], "+monitor") == ["master mymaster 127.0.0.1 7000 quorum 2"]


def test_without_start_a_slow_startup_looks_like_both() -> None:
    group = Group(count=1)
    group.net.clock.advance(5000)
    group.net.step(100)
    assert group.monitors[0].tilt
