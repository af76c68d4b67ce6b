"""The AOF manifest of Redis 7's multi-part AOF: which base, history and incr files make up
the append-only data, in order. Parsing, formatting and atomic replacement; no keyspace.

File names (aof.c): `<appendfilename>.<seq>.base.rdb` (or `.base.aof` without the RDB
preamble), `<appendfilename>.<seq>.incr.aof`, the manifest `<appendfilename>.manifest`, and
`temp-` prefixed names while a file is being produced. One line per file:

    file appendonly.aof.1.base.rdb seq 1 type b
    file appendonly.aof.1.incr.aof seq 1 type i

Lines are split like shell arguments (sdssplitargs), so a quoted name is allowed; '#' starts a
comment line; unknown keys are ignored; there is at most one base and incr sequence numbers
increase strictly. Errors carry Redis's texts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Final

from protocol.resp import sds_repr, split_inline

BASE: Final = "b"
HISTORY: Final = "h"
INCR: Final = "i"

MANIFEST_SUFFIX: Final = ".manifest"
TEMP_PREFIX: Final = "temp-"
MAX_LINE_BYTES: Final = 1024


class ManifestError(Exception):
    """The manifest cannot be used; `text` is Redis's reason, `line` the offending line."""

    def __init__(self, text: str, line_number: int = 0, line: str = "") -> None:
        super().__init__(text)
        self.text = text
        self.line_number = line_number
        self.line = line

    def __str__(self) -> str:
        if self.line_number:
            return f"{self.text} (line {self.line_number}: '{self.line}')"
        return self.text


@dataclass(slots=True)
class AOFInfo:
    """One file of the manifest."""

    name: str
    seq: int
    type: str  # BASE, HISTORY or INCR

    @property
    def is_rdb(self) -> bool:
        return self.name.endswith(".rdb")


def _needs_repr(name: str) -> bool:
    return any(c in '\\"' or not c.isprintable() or c.isspace() for c in name)


@dataclass(slots=True)
class Manifest:
    """The files of one AOF directory (aofManifest)."""

    base: AOFInfo | None = None
    history: list[AOFInfo] = field(default_factory=list)
    incrs: list[AOFInfo] = field(default_factory=list)
    base_seq: int = 0  # curr_base_file_seq
    incr_seq: int = 0  # curr_incr_file_seq

    def copy(self) -> Manifest:
        return Manifest(
            base=None if self.base is None else AOFInfo(self.base.name, self.base.seq, BASE),
            history=[AOFInfo(a.name, a.seq, a.type) for a in self.history],
            incrs=[AOFInfo(a.name, a.seq, a.type) for a in self.incrs],
            base_seq=self.base_seq,
            incr_seq=self.incr_seq,
        )

    def is_empty(self) -> bool:
        return self.base is None and not self.incrs

    def files(self) -> list[AOFInfo]:
        """Base then incr files: what loading reads, in order."""
        return ([self.base] if self.base else []) + list(self.incrs)

    def to_text(self) -> str:
        """getAofManifestAsString: base first, then history, then incr files."""
        lines = []
        for info in [*([self.base] if self.base else []), *self.history, *self.incrs]:
            name = sds_repr(info.name) if _needs_repr(info.name) else info.name
            lines.append(f"file {name} seq {info.seq} type {info.type}\n")
        return "".join(lines)

    # --- the changes a rewrite makes (aof.c) ---

    def new_base(self, filename: str, rdb: bool) -> AOFInfo:
        """getNewBaseFileNameAndMarkPreAsHistory."""
        if self.base is not None:
            self.base.type = HISTORY
            self.history.insert(0, self.base)
        self.base_seq += 1
        suffix = ".rdb" if rdb else ".aof"
        self.base = AOFInfo(f"{filename}.{self.base_seq}.base{suffix}", self.base_seq, BASE)
        return self.base

    def new_incr(self, filename: str) -> AOFInfo:
        """getNewIncrAofName."""
        self.incr_seq += 1
        info = AOFInfo(f"{filename}.{self.incr_seq}.incr.aof", self.incr_seq, INCR)
        self.incrs.append(info)
        return info

    def last_incr(self, filename: str) -> AOFInfo:
        """getLastIncrAofName: the last incr file, created if there is none."""
        if not self.incrs:
            return self.new_incr(filename)
        return self.incrs[-1]

    def mark_rewritten_incrs_as_history(self, keep_last: bool) -> None:
        """markRewrittenIncrAofAsHistory: every incr file but the one being written."""
        keep = self.incrs[-1:] if keep_last else []
        for info in reversed(self.incrs[: len(self.incrs) - len(keep)]):
            self.history.insert(0, AOFInfo(info.name, info.seq, HISTORY))
        self.incrs = keep


def manifest_name(filename: str) -> str:
    return filename + MANIFEST_SUFFIX


def temp_incr_name(filename: str) -> str:
    """getTempIncrAofName: where writes go while AOF is being switched on."""
    return f"{TEMP_PREFIX}{filename}.incr"


def parse_manifest(text: bytes) -> Manifest:
    """aofLoadManifestFromFile.

    Raises:
        ManifestError: with Redis's reason.
    """
    if not text:
        raise ManifestError("Found an empty AOF manifest")
    manifest = Manifest()
    max_seq = 0
    lines = text.split(b"\n")
    ends_with_newline = text.endswith(b"\n")
    if ends_with_newline:
        lines.pop()
    for number, raw in enumerate(lines, 1):
        if raw.startswith(b"#"):
            continue
        shown = raw.decode("utf-8", "replace")
        if len(raw) + 1 > MAX_LINE_BYTES or (number == len(lines) and not ends_with_newline):
            raise ManifestError("The AOF manifest file contains too long line", number, shown)
        line = raw.strip(b" \t\r\n")
        if not line:
            raise ManifestError("Invalid AOF manifest file format", number, shown)
        argv = split_inline(line)
        if argv is None or len(argv) < 6 or len(argv) % 2:
            raise ManifestError("Invalid AOF manifest file format", number, shown)
        name: str | None = None
        seq = 0
        kind = ""
        for i in range(0, len(argv), 2):
            key = argv[i].lower()
            value = argv[i + 1]
            if key == b"file":
                name = value.decode("utf-8", "surrogateescape")
                if os.path.basename(name) != name:
                    raise ManifestError("File can't be a path, just a filename", number, shown)
            elif key == b"seq":
                seq = _atoll(value)
            elif key == b"type":
                kind = value[:1].decode("latin-1")
        if not name or not seq or not kind:
            raise ManifestError("Invalid AOF manifest file format", number, shown)
        info = AOFInfo(name, seq, kind)
        if kind == BASE:
            if manifest.base is not None:
                raise ManifestError("Found duplicate base file information", number, shown)
            manifest.base = info
            manifest.base_seq = seq
        elif kind == HISTORY:
            manifest.history.append(info)
        elif kind == INCR:
            if seq <= max_seq:
                raise ManifestError("Found a non-monotonic sequence number", number, shown)
            manifest.incrs.append(info)
            manifest.incr_seq = seq
            max_seq = seq
        else:
            raise ManifestError("Unknown AOF file type", number, shown)
    return manifest


def _atoll(raw: bytes) -> int:
    """C's atoll: leading digits (after an optional sign), 0 when there are none."""
    text = raw.strip()
    sign = 1
    if text[:1] in (b"-", b"+"):
        sign = -1 if text[:1] == b"-" else 1
        text = text[1:]
    digits = b""
    for ch in text:
        if 48 <= ch <= 57:
            digits += bytes((ch,))
        else:
            break
    return sign * int(digits) if digits else 0


def read_manifest(dirname: str, filename: str) -> Manifest | None:
    """The manifest of `dirname`, or None when the directory or manifest does not exist."""
    path = os.path.join(dirname, manifest_name(filename))
    if not os.path.isdir(dirname) or not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return parse_manifest(f.read())


def fsync_dir(path: str) -> None:
    """fsync a directory so a rename or a new file in it survives a crash."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_manifest(dirname: str, filename: str, manifest: Manifest) -> None:
    """writeAofManifestFile: temp file, fsync, rename over the manifest, fsync the directory.

    Raises:
        OSError: the manifest could not be replaced (the old one is intact).
    """
    final = os.path.join(dirname, manifest_name(filename))
    temp = os.path.join(dirname, TEMP_PREFIX + manifest_name(filename))
    data = manifest.to_text().encode("utf-8", "surrogateescape")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, final)
    fsync_dir(dirname)
