"""storage.hashes and storage.sets helpers that builders of whole values (RDB load, RESTORE,
the *STORE commands) use to pick Redis's encoding."""

from __future__ import annotations

from storage.hashes import HashValue, needs_hashtable
from storage.sets import SetValue, fits_intset, new_set, ordered_members
from storage.values import encoding_name, type_name


def test_needs_hashtable_checks_count_and_every_length() -> None:
    h = HashValue()
    h.update({b"a": b"1", b"b": b"x" * 10})
    assert not needs_hashtable(h, 2, 10)
    assert needs_hashtable(h, 1, 10)
    assert needs_hashtable(h, 2, 9)
    h[b"k" * 11] = b"v"
    assert needs_hashtable(h, 5, 10)


def test_note_write_converts_once_and_for_good() -> None:
    h = HashValue()
    h[b"f"] = b"v"
    h.note_write(b"f", b"v", 1, 1)
    assert encoding_name(h) == b"listpack"
    h[b"g"] = b"v"
    h.note_write(b"g", b"v", 1, 1)
    assert encoding_name(h) == b"hashtable"
    h.clear()
    assert encoding_name(h) == b"hashtable"
    assert type_name(h) == b"hash"


def test_new_set_is_an_intset_only_for_few_integers() -> None:
    assert encoding_name(new_set([b"3", b"1"], 2)) == b"intset"
    assert encoding_name(new_set([b"3", b"1", b"2"], 2)) == b"hashtable"
    assert encoding_name(new_set([b"3", b"x"], 10)) == b"hashtable"
    assert encoding_name(new_set([], 0)) == b"intset"
    assert fits_intset([b"1"], 1, 2**40)  # the 1 << 30 cap still leaves room


def test_ordered_members_sorts_an_intset_numerically() -> None:
    s = SetValue([b"10", b"-2", b"9"])
    assert ordered_members(s) == [b"-2", b"9", b"10"]
    s.big = True
    assert sorted(ordered_members(s)) == [b"-2", b"10", b"9"]
    assert type_name(s) == b"set"
