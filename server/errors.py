"""Every RESP error string, and the one mapping from storage errors to wire text.

Strings are copied from Redis 7.0's source (t_string.c, db.c, server.c, networking.c, ...).
A reply is `-<text>\\r\\n`; `text` always starts with its code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from storage.errors import (
    IncrOverflowError,
    IndexOutOfRangeError,
    NoSuchKeyError,
    NotAFloatError,
    NotAnIntegerError,
    OutOfMemoryError,
    StorageError,
    ValueTooLargeError,
    WrongTypeError,
)


class CommandError(Exception):
    """A command failed; `text` is the whole error line without '-' and CRLF."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


ERR_SYNTAX: Final = "ERR syntax error"
ERR_WRONGTYPE: Final = "WRONGTYPE Operation against a key holding the wrong kind of value"
ERR_NOT_INTEGER: Final = "ERR value is not an integer or out of range"
ERR_NOT_FLOAT: Final = "ERR value is not a valid float"
ERR_OVERFLOW: Final = "ERR increment or decrement would overflow"
ERR_NAN_INCR: Final = "ERR increment would produce NaN or Infinity"
ERR_NO_SUCH_KEY: Final = "ERR no such key"
ERR_INDEX_RANGE: Final = "ERR index out of range"
ERR_MINMAX_FLOAT: Final = "ERR min or max is not a float"
ERR_MINMAX_LEX: Final = "ERR min or max not valid string range item"
ERR_ZADD_XX_NX: Final = "ERR XX and NX options at the same time are not compatible"
ERR_ZADD_GT_LT_NX: Final = "ERR GT, LT, and/or NX options at the same time are not compatible"
ERR_ZADD_INCR: Final = "ERR INCR option supports a single increment-element pair"
ERR_READONLY: Final = "READONLY You can't write against a read only replica."
ERR_NOAUTH: Final = "NOAUTH Authentication required."
ERR_OOM: Final = "OOM command not allowed when used memory > 'maxmemory'."
ERR_LOADING: Final = "LOADING Redis is loading the dataset in memory"
ERR_EXECABORT: Final = "EXECABORT Transaction discarded because of previous errors."
ERR_MULTI_NESTED: Final = "ERR MULTI calls can not be nested"
ERR_EXEC_NO_MULTI: Final = "ERR EXEC without MULTI"
ERR_DISCARD_NO_MULTI: Final = "ERR DISCARD without MULTI"
ERR_INVALID_PASSWORD: Final = "WRONGPASS invalid username-password pair or user is disabled."
ERR_AUTH_NOT_CONFIGURED: Final = (
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?"
)
ERR_DB_INDEX: Final = "ERR DB index is out of range"
ERR_SELECT_INVALID: Final = "ERR value is not an integer or out of range"
ERR_INVALID_CURSOR: Final = "ERR invalid cursor"
ERR_INVALID_EXPIRE: Final = "ERR invalid expire time in '%s' command"
ERR_SAME_OBJECT: Final = "ERR source and destination objects are the same"
ERR_STRING_TOO_LONG: Final = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
ERR_BIT_OFFSET: Final = "ERR bit offset is not an integer or out of range"
ERR_BIT_VALUE: Final = "ERR bit is not an integer or out of range"
ERR_NOPROTO: Final = "NOPROTO unsupported protocol version"
ERR_INTERNAL: Final = "ERR internal error"
ERR_ONLY_IN_SUBSCRIBE: Final = (
    "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
    "are allowed in this context"
)
ERR_NOREPLICAS: Final = "NOREPLICAS Not enough good replicas to write."
ERR_MISCONF: Final = (
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist "
    "to disk. Commands that may modify the data set are disabled, because this instance is "
    "configured to report errors during writes if RDB snapshotting fails "
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the "
    "RDB error."
)
ERR_NOT_ALLOWED_IN_MULTI: Final = "ERR Command not allowed inside a transaction"

# --- introspection (COMMAND) ---
ERR_GETKEYS_INVALID_COMMAND: Final = "ERR Invalid command specified"
ERR_GETKEYS_NO_KEYS: Final = "ERR The command has no key arguments"
ERR_GETKEYS_ARITY: Final = "ERR Invalid number of arguments specified for command"
ERR_GETKEYS_INVALID_ARGS: Final = "ERR Invalid arguments specified for command"
# --- keys (db.c, expire.c, sort.c) ---
ERR_EXPIRE_NX_AND_OTHERS: Final = (
    "ERR NX and XX, GT or LT options at the same time are not compatible"
)
ERR_EXPIRE_GT_AND_LT: Final = "ERR GT and LT options at the same time are not compatible"
ERR_UNSUPPORTED_OPTION: Final = "ERR Unsupported option %s"
ERR_SWAPDB_FIRST: Final = "ERR invalid first DB index"
ERR_SWAPDB_SECOND: Final = "ERR invalid second DB index"
ERR_SORT_SCORE: Final = "ERR One or more scores can't be converted into double"
ERR_INT_RANGE: Final = "ERR value is out of range, value must between -2147483648 and 2147483647"
# --- strings and bitmaps ---
ERR_DECR_OVERFLOW: Final = "ERR decrement would overflow"
ERR_OFFSET_RANGE: Final = "ERR offset is out of range"
ERR_LCS_WRONGTYPE: Final = "ERR The specified keys must contain string values"
ERR_LCS_LEN_AND_IDX: Final = "ERR If you want both the length and indexes, please just use IDX."
ERR_LCS_TOO_LONG: Final = "ERR String too long for LCS"
ERR_LCS_MEMORY: Final = (
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
)
ERR_BITOP_NOT: Final = "ERR BITOP NOT must be called with a single source key."
ERR_BIT_ARGUMENT: Final = "ERR The bit argument must be 1 or 0."
ERR_BITFIELD_TYPE: Final = (
    "ERR Invalid bitfield type. Use something like i16 u8. "
    "Note that u64 is not supported but i64 is."
)
ERR_BITFIELD_OVERFLOW: Final = "ERR Invalid OVERFLOW type specified"
ERR_BITFIELD_RO: Final = "ERR BITFIELD_RO only supports the GET subcommand"

# --- memcached (proto_text.c, memcached.c): whole reply lines, CRLF included ---
MC_ERR_NON_NUMERIC: Final = b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
MC_ERR_BAD_FORMAT: Final = b"CLIENT_ERROR bad command line format\r\n"
MC_ERR_BAD_CHUNK: Final = b"CLIENT_ERROR bad data chunk\r\n"
MC_ERR_TOO_LARGE: Final = b"SERVER_ERROR object too large for cache\r\n"
MC_ERR_OPAQUE_TOO_LONG: Final = b"CLIENT_ERROR opaque token too long\r\n"
MC_ERR_INVALID_EXPTIME: Final = b"CLIENT_ERROR invalid exptime argument\r\n"
MC_ERR_SHUTDOWN_DISABLED: Final = b"ERROR: shutdown not enabled\r\n"
MC_ERR_SHUTDOWN_MODE: Final = b"CLIENT_ERROR invalid shutdown mode\r\n"
MC_ERR_OUT_OF_MEMORY: Final = b"SERVER_ERROR out of memory storing object\r\n"
MC_ERR_AUTH_FAILURE: Final = b"CLIENT_ERROR authentication failure\r\n"
# Duocache's own (memcached has no replicas): Redis's wording, memcached's class.
MC_ERR_REPLICA_WRITE: Final = b"SERVER_ERROR You can't write against a read only replica.\r\n"
MC_ERR_USAGE_DETAIL: Final = b"CLIENT_ERROR usage: stats detail on|off|dump\r\n"
MC_ERR_BAD_COMMAND_LINE: Final = b"CLIENT_ERROR bad command line\r\n"
MC_ERR_ILLEGAL_SLAB: Final = b"CLIENT_ERROR Illegal slab id\r\n"
MC_ERR_TOO_MANY_CONNECTIONS: Final = b"ERROR Too many open connections\r\n"

RESP_ERRORS: Final[dict[type[StorageError], str]] = {
    WrongTypeError: ERR_WRONGTYPE,
    NotAnIntegerError: ERR_NOT_INTEGER,
    NotAFloatError: ERR_NOT_FLOAT,
    IncrOverflowError: ERR_OVERFLOW,
    NoSuchKeyError: ERR_NO_SUCH_KEY,
    IndexOutOfRangeError: ERR_INDEX_RANGE,
    ValueTooLargeError: ERR_STRING_TOO_LONG,
    OutOfMemoryError: ERR_OOM,
}


def storage_error_text(error: StorageError) -> str:
    """The RESP text for a storage error (its class, or the nearest base class)."""
    for cls in type(error).__mro__:
        text = RESP_ERRORS.get(cls)
        if text is not None:
            return text
    return ERR_INTERNAL


def err_arity(name: str) -> str:
    """Arity error; `name` in lower case, 'container|sub' for subcommands."""
    return f"ERR wrong number of arguments for '{name}' command"


def _shown(arg: bytes) -> str:
    return arg.decode("utf-8", "surrogateescape")


def err_unknown_command(argv: Sequence[bytes]) -> str:
    """Redis's unknown-command text, listing leading arguments up to 128 bytes."""
    args = b""
    for arg in argv[1:]:
        if len(args) >= 128:
            break
        args += b"'" + arg.split(b"\0", 1)[0][: 128 - len(args)] + b"' "
    name = argv[0].split(b"\0", 1)[0][:128]
    return f"ERR unknown command '{_shown(name)}', with args beginning with: {_shown(args)}"


def err_unknown_subcommand(sub: bytes, container: str) -> str:
    return f"ERR unknown subcommand '{_shown(sub[:128])}'. Try {container.upper()} HELP."


def err_invalid_expire(command: str) -> str:
    return ERR_INVALID_EXPIRE % command


def err_unsupported_option(option: bytes) -> str:
    """EXPIRE's unknown-flag error: the option as a C string, trailing CR/LF trimmed."""
    shown = _shown(option.split(b"\0", 1)[0]).rstrip("\r\n")
    return ERR_UNSUPPORTED_OPTION % shown
