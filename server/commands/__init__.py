"""Command families. Importing this package registers every command in the table."""

from server.commands import (  # noqa: F401  (imported for their @command registrations)
    admin,
    bitmaps,
    connection,
    expire,
    hashes,
    introspection,
    keys,
    lists,
    persistence,
    pubsub,
    replicas,
    sets,
    sort,
    strings,
    transactions,
    zpops,
    zranges,
    zsetops,
    zsets,
)
