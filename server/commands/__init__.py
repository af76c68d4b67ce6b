"""Command families. Importing this package registers every command in the table."""

from server.commands import (  # noqa: F401  (imported for their @command registrations)
    bitmaps,
    connection,
    expire,
    introspection,
    keys,
    persistence,
    replicas,
    sort,
    strings,
)
