"""AOF reading (commands, annotations, truncation, damage, MULTI, RDB preamble), base writing,
the manifest, and the check tool, in-process."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from persistence.aof import (
    AOFFormatError,
    AOFTruncatedError,
    AOFWriter,
    iter_commands,
    load_aof_data,
    write_aof_commands,
    write_base,
)
from persistence.building import DEFAULT_LIMITS, make_hash, make_set, make_zset
from persistence.check_aof import check
from persistence.manifest import (
    BASE,
    HISTORY,
    INCR,
    Manifest,
    ManifestError,
    parse_manifest,
    read_manifest,
    write_manifest,
)
from persistence.rdb import RDBAux, run_to_end
from protocol.resp import encode_command, encode_commands
from storage.keyspace import Keyspace
from storage.lists import ListValue


def _cmds(*commands: list[bytes]) -> bytes:
    return encode_commands(commands)


SET_A = [b"SET", b"a", b"1"]
SET_B = [b"SET", b"b", b"2"]


class Recorder:
    def __init__(self) -> None:
        self.seen: list[list[bytes]] = []

    def __call__(self, argv: list[bytes]) -> None:
        self.seen.append(argv)


def _load(data: bytes, **kw: object) -> tuple[Recorder, object]:
    rec = Recorder()
    result = run_to_end(load_aof_data(data, "test.aof", Keyspace(), rec, **kw))  # type: ignore[arg-type]
    return rec, result


# --- reading commands ---


def test_commands_and_their_offsets() -> None:
    data = _cmds(SET_A, SET_B)
    found = list(iter_commands(data, 0, "f"))
    first_end = len(encode_command(SET_A))
    assert found == [(SET_A, 0, first_end), (SET_B, first_end, len(data))]


def test_annotations_are_skipped() -> None:
    data = b"#TS:1700000000\r\n" + _cmds(SET_A) + b"#TS:1700000001\r\n"
    assert [argv for argv, _, _ in iter_commands(data, 0, "f")] == [SET_A]


@pytest.mark.parametrize("cut", [1, 2, 5, 10, 20, 25, 28])
def test_a_torn_last_command_reports_where_the_last_whole_one_ends(cut: int) -> None:
    whole = _cmds(SET_A)
    data = whole + _cmds([b"SET", b"key", b"value"])[:cut]
    with pytest.raises(AOFTruncatedError) as e:
        list(iter_commands(data, 0, "x.aof"))
    assert e.value.valid_up_to == len(whole)


def test_garbage_where_a_command_starts_is_a_format_error_with_offset() -> None:
    whole = _cmds(SET_A)
    data = whole + b"garbage\r\n" + _cmds(SET_B)
    with pytest.raises(AOFFormatError) as e:
        list(iter_commands(data, 0, "x.aof"))
    assert e.value.offset == len(whole)
    assert "x.aof" in str(e.value)
    assert f"offset {len(whole)}" in str(e.value)


def test_a_bulk_without_dollar_is_a_format_error() -> None:
    with pytest.raises(AOFFormatError):
        list(iter_commands(b"*1\r\n:5\r\n", 0, "f"))


def test_a_zero_count_is_a_format_error() -> None:
    with pytest.raises(AOFFormatError):
        list(iter_commands(b"*0\r\n", 0, "f"))


def test_loading_runs_commands_and_counts_them() -> None:
    rec, result = _load(_cmds(SET_A, SET_B))
    assert rec.seen == [SET_A, SET_B]
    assert result.commands == 2  # type: ignore[attr-defined]
    assert result.truncated_at is None  # type: ignore[attr-defined]


def test_a_transaction_runs_its_queued_commands_at_exec() -> None:
    rec, _result = _load(_cmds([b"MULTI"], SET_A, SET_B, [b"EXEC"], [b"DEL", b"a"]))
    assert rec.seen == [SET_A, SET_B, [b"DEL", b"a"]]


def test_an_unterminated_transaction_is_undone_as_a_truncation() -> None:
    head = _cmds(SET_A)
    rec, result = _load(head + _cmds([b"MULTI"], SET_B))
    assert rec.seen == [SET_A]
    assert result.truncated_at == len(head)  # type: ignore[attr-defined]


def test_a_torn_transaction_truncates_before_multi() -> None:
    head = _cmds(SET_A)
    rec, result = _load(head + _cmds([b"MULTI"], SET_B) + b"*1\r\n$4\r\nEX")
    assert rec.seen == [SET_A]
    assert result.truncated_at == len(head)  # type: ignore[attr-defined]


def test_mcmeta_effects_go_to_their_hook() -> None:
    meta: list[tuple[bytes, int, int]] = []
    data = _cmds(SET_A, [b"PUBLISH", b"__duocache:mcmeta", b"5 77 a"])
    rec, _ = _load(data, on_mcmeta=lambda k, fl, cas: meta.append((k, fl, cas)))
    assert rec.seen == [SET_A]
    assert meta == [(b"a", 5, 77)]


def test_an_rdb_preamble_is_loaded_then_the_tail() -> None:
    ks = Keyspace()
    ks.dbs[0].set(b"from-rdb", b"x")
    out = io.BytesIO()
    write_base(out, ks, rdb_preamble=True, aux=RDBAux(), compress=True, checksum=True)
    data = out.getvalue() + _cmds(SET_A)
    target = Keyspace()
    rec = Recorder()
    result = run_to_end(load_aof_data(data, "f", target, rec))
    assert target.dbs[0].peek(b"from-rdb") == b"x"
    assert result.rdb_keys == 1
    assert rec.seen == [SET_A]


def test_an_empty_file_is_empty() -> None:
    _, result = _load(b"")
    assert result.empty  # type: ignore[attr-defined]


# --- writing ---


def test_base_as_commands_rebuilds_the_dataset() -> None:
    ks = Keyspace()
    ks.dbs[0].set(b"s", b"v", 1_900_000_000_000)
    ks.dbs[0].set(b"l", ListValue([b"%d" % i for i in range(130)]))
    ks.dbs[2].set(b"h", make_hash([b"f", b"v", b"g", b"w"], DEFAULT_LIMITS))
    ks.dbs[2].set(b"z", make_zset([(b"a", 1.5), (b"b", float("inf"))], DEFAULT_LIMITS))
    ks.dbs[2].set(b"st", make_set([b"1"], DEFAULT_LIMITS))
    out = io.BytesIO()
    write_aof_commands(out, ks, timestamp_s=1_700_000_000, mcmeta={b"s": (3, 9)})
    commands = [argv for argv, _, _ in iter_commands(out.getvalue(), 0, "f")]
    assert out.getvalue().startswith(b"#TS:1700000000\r\n")
    assert commands[0] == [b"SELECT", b"0"]
    rpush = [c for c in commands if c[0] == b"RPUSH"]
    assert [len(c) - 2 for c in rpush] == [64, 64, 2]
    assert [b"PEXPIREAT", b"s", b"1900000000000"] in commands
    assert [b"PUBLISH", b"__duocache:mcmeta", b"3 9 s"] in commands
    assert [b"SELECT", b"2"] in commands
    assert [b"HMSET", b"h", b"f", b"v", b"g", b"w"] in commands
    assert [b"ZADD", b"z", b"1.5", b"a", b"inf", b"b"] in commands
    assert [b"SADD", b"st", b"1"] in commands


def test_writer_tracks_appended_written_and_synced_offsets(tmp_path: Path) -> None:
    writer = AOFWriter.open(str(tmp_path / "x.aof"))
    writer.append(b"abc")
    writer.append(b"de")
    assert (writer.appended_offset, writer.written_offset, writer.synced_offset) == (5, 0, 0)
    writer.write_pending()
    assert writer.written_offset == 5
    assert not writer.buf
    assert writer.fsync() == 5
    writer.close()
    again = AOFWriter.open(str(tmp_path / "x.aof"))
    assert again.size == 5
    again.close()
    assert (tmp_path / "x.aof").read_bytes() == b"abcde"


# --- manifest ---


def test_manifest_round_trip_and_order() -> None:
    m = Manifest()
    m.new_base("appendonly.aof", rdb=True)
    m.new_incr("appendonly.aof")
    m.new_incr("appendonly.aof")
    m.new_base("appendonly.aof", rdb=False)
    m.mark_rewritten_incrs_as_history(keep_last=True)
    text = m.to_text()
    assert text == (
        "file appendonly.aof.2.base.aof seq 2 type b\n"
        "file appendonly.aof.1.incr.aof seq 1 type h\n"
        "file appendonly.aof.1.base.rdb seq 1 type h\n"
        "file appendonly.aof.2.incr.aof seq 2 type i\n"
    )
    parsed = parse_manifest(text.encode())
    assert parsed.to_text() == text
    assert parsed.base is not None
    assert parsed.base.type == BASE
    assert [i.type for i in parsed.history] == [HISTORY, HISTORY]
    assert [i.seq for i in parsed.incrs] == [2]
    assert parsed.incrs[0].type == INCR


def test_manifest_quotes_names_that_need_it() -> None:
    m = Manifest()
    m.new_base("my aof", rdb=True)
    assert m.to_text() == 'file "my aof.1.base.rdb" seq 1 type b\n'
    assert parse_manifest(m.to_text().encode()).files()[0].name == "my aof.1.base.rdb"


def test_manifest_comments_and_unknown_keys_are_ignored() -> None:
    text = b"# a comment\nfile a.1.incr.aof seq 1 type i extra value\n"
    assert parse_manifest(text).incrs[0].name == "a.1.incr.aof"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (b"", "Found an empty AOF manifest"),
        (b"\n", "Invalid AOF manifest file format"),
        (b"file a seq 1\n", "Invalid AOF manifest file format"),
        (b"file a seq 1 type\n", "Invalid AOF manifest file format"),
        (b"file a/b seq 1 type b\n", "File can't be a path, just a filename"),
        (b"file a seq 1 type b\nfile c seq 2 type b\n", "Found duplicate base file information"),
        (b"file a seq 2 type i\nfile c seq 2 type i\n", "Found a non-monotonic sequence number"),
        (b"file a seq 1 type x\n", "Unknown AOF file type"),
        (b"file a seq 1 type i", "The AOF manifest file contains too long line"),
        (b"file " + b"a" * 1100 + b" seq 1 type i\n", "too long line"),
    ],
)
def test_manifest_errors_use_redis_texts(text: bytes, error: str) -> None:
    with pytest.raises(ManifestError, match=error):
        parse_manifest(text)


def test_manifest_is_replaced_atomically(tmp_path: Path) -> None:
    m = Manifest()
    m.new_incr("appendonly.aof")
    write_manifest(str(tmp_path), "appendonly.aof", m)
    assert not (tmp_path / "temp-appendonly.aof.manifest").exists()
    read = read_manifest(str(tmp_path), "appendonly.aof")
    assert read is not None
    assert read.to_text() == m.to_text()
    assert read_manifest(str(tmp_path / "missing"), "appendonly.aof") is None


# --- the check tool ---


def _aof_dir(tmp_path: Path, incr: bytes) -> Path:
    d = tmp_path / "appendonlydir"
    d.mkdir()
    ks = Keyspace()
    ks.dbs[0].set(b"k", b"v")
    with open(d / "appendonly.aof.1.base.rdb", "wb") as out:
        write_base(out, ks, rdb_preamble=True, aux=RDBAux(), compress=True, checksum=True)
    (d / "appendonly.aof.1.incr.aof").write_bytes(incr)
    m = Manifest()
    m.new_base("appendonly.aof", rdb=True)
    m.new_incr("appendonly.aof")
    write_manifest(str(d), "appendonly.aof", m)
    return d / "appendonly.aof.manifest"


def test_check_accepts_a_valid_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = _aof_dir(tmp_path, _cmds(SET_A, SET_B))
    assert check(str(manifest)) == 0
    assert "All AOF files and manifest are valid" in capsys.readouterr().out


def test_check_reports_and_fixes_a_torn_tail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _cmds(SET_A)
    manifest = _aof_dir(tmp_path, good + b"*3\r\n$3\r\nSET")
    assert check(str(manifest)) == 1
    out = capsys.readouterr().out
    assert f"ok_up_to={len(good)}" in out
    assert "is not valid. Use the --fix option" in out
    assert check(str(manifest), fix=True, answer="n\n") == 1
    assert check(str(manifest), fix=True, answer="y\n") == 0
    assert (manifest.parent / "appendonly.aof.1.incr.aof").read_bytes() == good
    assert check(str(manifest)) == 0


def test_check_refuses_to_truncate_a_file_that_is_not_the_last(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = _aof_dir(tmp_path, _cmds(SET_A) + b"junk")
    (manifest.parent / "appendonly.aof.2.incr.aof").write_bytes(_cmds(SET_B))
    m = parse_manifest(manifest.read_bytes())
    m.new_incr("appendonly.aof")
    write_manifest(str(manifest.parent), "appendonly.aof", m)
    assert check(str(manifest), fix=True, answer="y\n") == 1
    assert "because it is not the last file" in capsys.readouterr().out


def test_check_old_style_file_and_missing_crlf(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "appendonly.aof"
    path.write_bytes(_cmds(SET_A) + b"*1\r\n$4\r\nPINGxx")
    assert check(str(path)) == 1
    assert "Expected \\r\\n" in capsys.readouterr().out
    path.write_bytes(_cmds(SET_A))
    assert check(str(path)) == 0
    assert "AOF " + str(path) + " is valid" in capsys.readouterr().out
