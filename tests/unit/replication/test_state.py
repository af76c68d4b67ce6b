"""PSYNC2's history: IDs, offsets and masterTryPartialResynchronization's decision."""

from __future__ import annotations

from replication.state import NO_REPLID, ReplicationState


def primary_with_stream(data: bytes = b"x" * 100) -> ReplicationState:
    state = ReplicationState(1 << 20)
    state.create_backlog(new_history=True)
    state.feed(data)
    return state


def test_offsets_count_only_while_a_backlog_exists() -> None:
    state = ReplicationState(1 << 20)
    state.feed(b"lost")
    assert state.master_repl_offset == 0
    state.create_backlog(new_history=True)
    state.feed(b"12345")
    assert state.master_repl_offset == 5
    assert state.backlog is not None
    assert state.backlog.first_offset == 1


def test_a_first_backlog_starts_a_new_history() -> None:
    state = ReplicationState(1 << 20, replid="a" * 40)
    state.replid2 = "b" * 40
    state.second_replid_offset = 7
    state.create_backlog(new_history=True)
    assert state.replid != "a" * 40
    assert state.replid2 == NO_REPLID
    assert state.second_replid_offset == -1


def test_continue_from_any_offset_the_backlog_holds() -> None:
    state = primary_with_stream(bytes(range(100)))
    for offset in (1, 50, 100, 101):
        decision = state.try_partial(state.replid, offset)
        assert decision.partial
        assert decision.backlog_data == bytes(range(100))[offset - 1 :]


def test_an_offset_past_the_stream_needs_a_full_resync() -> None:
    state = primary_with_stream()
    decision = state.try_partial(state.replid, 102)
    assert not decision.partial
    assert decision.reason == "lack of backlog"


def test_an_offset_before_the_backlog_needs_a_full_resync() -> None:
    state = ReplicationState(16 * 1024)
    state.create_backlog(new_history=True)
    state.feed(b"z" * 40000)
    assert not state.try_partial(state.replid, 10).partial
    assert state.try_partial(state.replid, 40001 - 16 * 1024).partial


def test_question_mark_asks_for_a_full_resync() -> None:
    decision = primary_with_stream().try_partial("?", -1)
    assert not decision.partial
    assert decision.reason == "?"


def test_an_unknown_id_needs_a_full_resync() -> None:
    decision = primary_with_stream().try_partial("c" * 40, 5)
    assert not decision.partial
    assert decision.reason == "replication ID mismatch"


def test_the_id_is_compared_case_insensitively() -> None:
    state = primary_with_stream()
    assert state.try_partial(state.replid.upper(), 10).partial


def test_no_backlog_means_no_partial_resync() -> None:
    state = ReplicationState(1 << 20)
    assert not state.try_partial(state.replid, 1).partial


def test_a_promoted_replica_accepts_its_old_primary_s_id_up_to_the_switch() -> None:
    # A replica at offset 100 of history H is promoted: H becomes ID2, valid to 101.
    state = primary_with_stream()
    old = state.replid
    state.shift_replid()
    assert state.replid2 == old
    assert state.second_replid_offset == 101
    assert state.replid != old
    state.feed(b"new writes")
    # Another replica of H that had everything up to 100 continues.
    decision = state.try_partial(old, 101)
    assert decision.partial
    assert decision.backlog_data == b"new writes"
    # One that claims to have bytes of H past the switch cannot.
    refused = state.try_partial(old, 102)
    assert not refused.partial
    assert refused.reason == "offset past the second ID"


def test_adopting_a_new_primary_id_keeps_ours_as_id2() -> None:
    state = primary_with_stream()
    old = state.replid
    state.adopt_primary_id("d" * 40)
    assert (state.replid, state.replid2, state.second_replid_offset) == ("d" * 40, old, 101)
    state.adopt_primary_id("d" * 40)  # the same ID again changes nothing
    assert state.replid2 == old


def test_a_full_resync_takes_the_primary_s_history() -> None:
    state = primary_with_stream()
    state.shift_replid()
    state.reset_to("e" * 40, 5000)
    assert state.replid == "e" * 40
    assert state.master_repl_offset == 5000
    assert state.replid2 == NO_REPLID
    assert state.backlog is not None
    assert state.backlog.first_offset == 5001
    assert state.try_partial("e" * 40, 5001).partial


def test_freeing_the_backlog_forgets_the_history() -> None:
    state = primary_with_stream()
    old = state.replid
    state.free_backlog()
    assert state.backlog is None
    assert state.replid != old
    assert not state.try_partial(old, 50).partial


def test_resizing_the_backlog_keeps_serving() -> None:
    state = primary_with_stream(b"a" * 20000)
    state.resize_backlog(16 * 1024)
    assert state.backlog is not None
    assert state.backlog.size_bytes == 16 * 1024
    assert state.try_partial(state.replid, 20001 - 16 * 1024).partial
    assert not state.try_partial(state.replid, 1).partial
