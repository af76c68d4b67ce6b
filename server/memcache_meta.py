"""memcached item metadata in the write stream, the AOF and the RDB snapshot.

A memcached write leaves Duocache as ordinary Redis commands with absolute times: `SET key
value [PXAT ms]`, `SET key value KEEPTTL`, `APPEND`, `PEXPIREAT`, `PERSIST`, `DEL`, `FLUSHDB`.
A Redis string cannot carry memcached's client flags or CAS token, so when an item has
non-zero flags or a CAS token to keep, a second effect follows right after:

    PUBLISH __duocache:mcmeta "<flags> <cas> <key>"

The three fields travel in one message because PUBLISH takes exactly one (a real Redis would
refuse the AOF otherwise); the key comes last so it may hold any byte. A real redis-server
that loads such an AOF or replicates such a stream publishes to a channel nobody listens on
and keeps plain strings. Duocache, when the command comes from the AOF loader or from its
primary's link (`ctx.is_primary_link` or `app.loading`), applies the flags and CAS to the key
instead of publishing (`intercept`), and passes the effect on to its own stream.

Every effect that rewrites the key on a replica (a SET, or a PEXPIREAT that Redis counts as a
change) clears the key's metadata there, as any Redis write does, so the metadata effect is
sent after every such effect of an item that has some.

The RDB snapshot keeps the same table in one AUX field: `encode_table(db)` gives its value,
`apply_table(app, db, blob)` restores it (both ignore keys that hold no string).

What is not carried: hit-before and last-access records, stale and recache-win state, and
CAS tokens handed out by reads (a promoted replica hands out fresh ones, so an old token
fails its compare-and-swap, the safe direction).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from server.memcache_state import item_tables, service_for

if TYPE_CHECKING:
    from server.app import App
    from server.context import CommandContext
    from storage.keyspace import Database

MCMETA_CHANNEL: Final = b"__duocache:mcmeta"
_PUBLISH: Final = frozenset((b"PUBLISH", b"publish"))


def meta_effect(key: bytes, flags: int, cas: int) -> list[bytes]:
    """The stream effect that gives `key` its client flags and CAS token (0: none)."""
    return [b"PUBLISH", MCMETA_CHANNEL, b"%d %d %b" % (flags, cas, key)]


def parse_meta_message(message: bytes) -> tuple[bytes, int, int] | None:
    """(key, flags, cas) from an effect's message, or None when it is not one of ours."""
    parts = message.split(b" ", 2)
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    flags, cas = int(parts[0]), int(parts[1])
    if flags > 0xFFFFFFFF or cas >= 2**64:
        return None
    return parts[2], flags, cas


def is_meta_effect(argv: list[bytes]) -> bool:
    """Whether argv is `PUBLISH __duocache:mcmeta <message>`."""
    return (
        len(argv) == 3
        and argv[1] == MCMETA_CHANNEL
        and (argv[0] in _PUBLISH or argv[0].upper() == b"PUBLISH")
    )


def apply_meta(app: App, db: Database, key: bytes, flags: int, cas: int) -> bool:
    """Give the string at `key` these flags and CAS token; False when no string is there.

    The CAS counter moves past `cas` so no later token can repeat it.
    """
    value = db.get(key)
    if type(value) is not bytes and type(value) is not bytearray:
        return False
    tables = item_tables(db)
    if flags:
        tables.flags[key] = flags
    else:
        tables.flags.pop(key, None)
    if cas:
        tables.cas[key] = cas
        service = service_for(app)
        if cas > service.cas_id:
            service.cas_id = cas
    else:
        tables.cas.pop(key, None)
    return True


def intercept(ctx: CommandContext, argv: list[bytes]) -> bool:
    """Apply a metadata effect arriving from the AOF loader or the primary's link.

    Returns:
        True when argv was such an effect and has been applied (and passed on to this
        server's own stream); False when it must run as an ordinary command.
    """
    if not (ctx.is_primary_link or ctx.app.loading) or not is_meta_effect(argv):
        return False
    parsed = parse_meta_message(argv[2])
    if parsed is None:
        return False
    app = ctx.app
    apply_meta(app, ctx.db, *parsed)
    if app.feed and not app.loading:
        app.propagate(ctx.db.index, argv)
    return True


# --- the RDB AUX field ---


def encode_table(db: Database) -> bytes:
    """The flags and CAS tokens of `db`'s items as one blob: `<flags> <cas> <keylen>\\n<key>`."""
    tables = db.mc
    if tables is None:
        return b""
    flags, cas = tables.flags, tables.cas
    return b"".join(
        b"%d %d %d\n%b" % (flags.get(key, 0), cas.get(key, 0), len(key), key)
        for key in flags.keys() | cas.keys()
    )


def apply_table(app: App, db: Database, blob: bytes) -> int:
    """Restore what `encode_table` wrote; returns how many keys got metadata.

    Raises:
        ValueError: the blob is malformed.
    """
    applied = 0
    pos = 0
    while pos < len(blob):
        end = blob.index(b"\n", pos)
        flags_raw, cas_raw, size_raw = blob[pos:end].split(b" ")
        size = int(size_raw)
        key = blob[end + 1 : end + 1 + size]
        if len(key) != size:
            raise ValueError("truncated memcached metadata")
        pos = end + 1 + size
        if apply_meta(app, db, key, int(flags_raw), int(cas_raw)):
            applied += 1
    return applied
