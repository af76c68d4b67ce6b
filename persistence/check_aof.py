"""`python -m persistence.check_aof [--fix] <manifest-or-file>`: check (and repair) an AOF,
as redis-check-aof does.

Given a manifest it checks the base and every incr file in order; given a single file it
checks an old-style AOF (with or without an RDB preamble). The check is strict like
redis-check-aof's: every length line and every argument must end with CRLF, MULTI and EXEC
must pair up. A file that is not valid is reported with the offset and line of the last good
command; `--fix` truncates it there after asking for confirmation on stdin (only the last
file of a multi-part AOF may be truncated). Exit status 0 when valid or fixed, 1 otherwise.
"""

from __future__ import annotations

import mmap
import os
import sys
from collections.abc import Sequence
from typing import Any

from persistence.codecs import RDBFormatError
from persistence.manifest import ManifestError, parse_manifest
from persistence.rdb import RDBLoader, run_to_end

OK = "ok"
EMPTY = "empty"
TRUNCATED = "truncated"


class CheckFailedError(Exception):
    """Stop with exit status 1 (the message was already printed)."""


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _scan(data: Any, start: int, filename: str) -> tuple[int, int, str]:
    """Strict scan from `start`: (offset of the last good command's end, its line, error)."""
    size = len(data)
    pos = start
    good = start
    line = 1
    good_line = 1
    multi = 0
    error = ""

    def read_line(p: int) -> tuple[bytes, int] | None:
        nl = data.find(b"\n", p)
        if nl < 0:
            return None
        return bytes(data[p : nl + 1]), nl + 1

    while pos < size:
        head = read_line(pos)
        if head is None:
            error = f"0x{pos:16x}: Failed to read from AOF {filename}"
            break
        text, after = head
        if text.startswith(b"#"):
            pos = good = after
            line += 1
            good_line = line
            continue
        if not text.startswith(b"*"):
            error = f"AOF {filename} format error"
            break
        try:
            argc = _strict_number(text, b"*")
        except ValueError as e:
            error = f"0x{pos:16x}: {e}"
            break
        line += 1
        p = after
        ok = True
        for i in range(argc):
            got = read_line(p)
            if got is None:
                error = f"0x{p:16x}: Expected to read a length, got end of file"
                ok = False
                break
            text, p2 = got
            try:
                length = _strict_number(text, b"$")
            except ValueError as e:
                error = f"0x{p:16x}: {e}"
                ok = False
                break
            line += 1
            if length < 0:
                error = f"0x{p:16x}: Expected to read string of {length} bytes"
                ok = False
                break
            end = p2 + length + 2
            if end > size:
                error = f"0x{p2:16x}: Expected to read {length + 2} bytes, got {size - p2} bytes"
                ok = False
                break
            if bytes(data[end - 2 : end]) != b"\r\n":
                error = f"0x{end - 2:16x}: Expected \\r\\n"
                ok = False
                break
            line += 1
            if i == 0:
                name = bytes(data[p2 : p2 + length]).lower()
                if name == b"multi":
                    multi += 1
                    if multi > 1:
                        error = f"0x{p2:16x}: Unexpected MULTI in AOF {filename}"
                        ok = False
                        break
                elif name == b"exec":
                    multi -= 1
                    if multi != 0:
                        error = f"0x{p2:16x}: Unexpected EXEC in AOF {filename}"
                        ok = False
                        break
            p = end
        if not ok:
            break
        pos = p
        if multi == 0:
            good = pos
            good_line = line
    if not error and multi and pos >= size:
        error = "Reached EOF before reading EXEC for MULTI"
    return good, good_line, error


def _strict_number(text: bytes, prefix: bytes) -> int:
    if not text.startswith(prefix):
        raise ValueError(f"Expected prefix '{prefix.decode()}', got: '{chr(text[0])}'")
    body = text[1:]
    if not body.endswith(b"\r\n"):
        raise ValueError("Expected \\r\\n")
    digits = body[:-2]
    try:
        return int(digits)
    except ValueError:
        raise ValueError(f"Invalid number {digits!r}") from None


def check_file(path: str, name: str, *, last_file: bool, fix: bool, answer: str | None) -> str:
    """checkSingleAof: OK, EMPTY or TRUNCATED; raises CheckFailedError when not valid."""
    try:
        size = os.path.getsize(path)
    except OSError as e:
        _out(f"Cannot open file {path}: {e.strerror}, aborting...")
        raise CheckFailedError from None
    if size == 0:
        return EMPTY
    with open(path, "r+b" if fix else "rb") as f:
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            start = 0
            if bytes(data[:5]) == b"REDIS":
                try:
                    loader = RDBLoader(data, origin=name)
                    result = run_to_end(loader.load(None))
                except RDBFormatError as e:
                    _out(f"RDB preamble of AOF file is not sane, aborting. ({e})")
                    raise CheckFailedError from None
                _out("RDB preamble is OK, proceeding with AOF tail...")
                start = result.end_offset
            good, good_line, error = _scan(data, start, name)
        finally:
            data.close()
        if error:
            _out(error)
        diff = size - good
        _out(
            f"AOF analyzed: filename={name}, size={size}, ok_up_to={good}, "
            f"ok_up_to_line={good_line}, diff={diff}"
        )
        if diff <= 0:
            return OK
        if not fix:
            _out(f"AOF {name} is not valid. Use the --fix option to try fixing it.")
            raise CheckFailedError
        if not last_file:
            _out(f"Failed to truncate AOF {name} because it is not the last file")
            raise CheckFailedError
        _out(
            f"This will shrink the AOF {name} from {size} bytes, with {diff} bytes, to {good} bytes"
        )
        sys.stdout.write("Continue? [y/N]: ")
        sys.stdout.flush()
        reply = answer if answer is not None else sys.stdin.readline()
        if reply[:1].lower() != "y":
            _out("Aborting...")
            raise CheckFailedError
        f.truncate(good)
        os.fsync(f.fileno())
    return TRUNCATED


def _is_manifest(path: str) -> bool:
    with open(path, "rb") as f:
        for raw in f:
            if raw.startswith(b"#"):
                continue
            return raw.startswith(b"file")
    return False


def check(path: str, *, fix: bool = False, answer: str | None = None) -> int:
    """Check a manifest or a single AOF; return the exit status."""
    try:
        if _is_manifest(path):
            _check_multi_part(path, fix, answer)
        else:
            _out("Start checking Old-Style AOF")
            status = check_file(path, path, last_file=True, fix=fix, answer=answer)
            _report("AOF", path, status)
    except CheckFailedError:
        return 1
    except OSError as e:
        _out(f"Cannot open file {path}: {e.strerror}")
        return 1
    return 0


def _report(kind: str, name: str, status: str) -> None:
    if status == OK:
        _out(f"{kind} {name} is valid")
    elif status == EMPTY:
        _out(f"{kind} {name} is empty")
    else:
        _out(f"Successfully truncated AOF {name}")


def _check_multi_part(path: str, fix: bool, answer: str | None) -> None:
    _out("Start checking Multi Part AOF")
    with open(path, "rb") as f:
        text = f.read()
    try:
        manifest = parse_manifest(text)
    except ManifestError as e:
        _out("*** FATAL AOF MANIFEST FILE ERROR ***")
        if e.line_number:
            _out(f"Reading the manifest file, at line {e.line_number}")
            _out(f">>> '{e.line}'")
        _out(e.text)
        raise CheckFailedError from None
    directory = os.path.dirname(path) or "."
    files = manifest.files()
    for number, info in enumerate(files, 1):
        last = number == len(files)
        full = os.path.join(directory, info.name)
        if info is manifest.base:
            with open(full, "rb") as fh:
                is_rdb = fh.read(5) == b"REDIS"
            _out(f"Start to check BASE AOF ({'RDB' if is_rdb else 'RESP'} format).")
            status = check_file(full, info.name, last_file=last, fix=fix, answer=answer)
            _report("BASE AOF", info.name, status)
        else:
            if number == (2 if manifest.base else 1):
                _out("Start to check INCR files.")
            status = check_file(full, info.name, last_file=last, fix=fix, answer=answer)
            _report("INCR AOF", info.name, status)
    _out("All AOF files and manifest are valid")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    fix = False
    if len(args) == 2 and args[0] == "--fix":
        fix = True
        args = args[1:]
    if len(args) != 1 or args[0].startswith("--"):
        _out("Usage: python -m persistence.check_aof [--fix] <file.manifest|file.aof>")
        return 1
    return check(args[0], fix=fix)


if __name__ == "__main__":
    raise SystemExit(main())
