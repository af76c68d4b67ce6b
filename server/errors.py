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

# --- lists and blocking commands ---
ERR_POSITIVE: Final = "ERR value is out of range, must be positive"
ERR_LPOS_RANK_ZERO: Final = (
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
    "or use negative to start from the end of the list"
)
ERR_LPOS_COUNT_NEGATIVE: Final = "ERR COUNT can't be negative"
ERR_LPOS_MAXLEN_NEGATIVE: Final = "ERR MAXLEN can't be negative"
ERR_NUMKEYS_POSITIVE: Final = "ERR numkeys should be greater than 0"
ERR_COUNT_POSITIVE: Final = "ERR count should be greater than 0"
ERR_TIMEOUT_NOT_FLOAT: Final = "ERR timeout is not a float or out of range"
ERR_TIMEOUT_NEGATIVE: Final = "ERR timeout is negative"
ERR_UNBLOCK_REASON: Final = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
ERR_UNBLOCKED_BY_CLIENT: Final = "UNBLOCKED client unblocked via CLIENT UNBLOCK"
ERR_UNBLOCKED_ROLE_CHANGE: Final = (
    "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)"
)

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


def err_subcommand_syntax(sub: bytes, container: str) -> str:
    """addReplySubcommandSyntaxError: the subcommand as typed, the container upper-cased."""
    return (
        f"ERR unknown subcommand or wrong number of arguments for '{_shown(sub[:128])}'. "
        f"Try {container.upper()} HELP."
    )
