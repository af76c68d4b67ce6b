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
# --- hashes and sets ---
ERR_HASH_NOT_INTEGER: Final = "ERR hash value is not an integer"
ERR_HASH_NOT_FLOAT: Final = "ERR hash value is not a float"
ERR_NAN_OR_INFINITY: Final = "ERR value is NaN or Infinity"
ERR_OUT_OF_RANGE: Final = "ERR value is out of range"
ERR_OUT_OF_RANGE_POSITIVE: Final = "ERR value is out of range, must be positive"
ERR_OUT_OF_RANGE_LONG: Final = (
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
)
ERR_NUMKEYS_POSITIVE: Final = "ERR numkeys should be greater than 0"
ERR_NUMKEYS_EXCEED_ARGS: Final = "ERR Number of keys can't be greater than number of args"
ERR_LIMIT_NEGATIVE: Final = "ERR LIMIT can't be negative"
# --- zsets ---
ERR_ZADD_NAN: Final = "ERR resulting score is not a number (NaN)"
ERR_WEIGHT_FLOAT: Final = "ERR weight value is not a float"
ERR_AT_LEAST_ONE_KEY: Final = "ERR at least 1 input key is needed for '%s' command"
ERR_COUNT_POSITIVE: Final = "ERR count should be greater than 0"
ERR_RANGE_BETWEEN: Final = "ERR value is out of range, value must between %d and %d"
ERR_ZRANGE_LIMIT: Final = (
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
)
ERR_ZRANGE_BYLEX_WITHSCORES: Final = (
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
)
# --- pub/sub and transactions ---
ERR_EXECABORT_BECAUSE: Final = "EXECABORT Transaction discarded because of: %s"
ERR_WATCH_IN_MULTI: Final = "ERR WATCH inside MULTI is not allowed"
ERR_DENY_BLOCKING: Final = "ERR %s isn't allowed for a DENY BLOCKING client"
ERR_SUBCOMMAND_SYNTAX: Final = (
    "ERR unknown subcommand or wrong number of arguments for '%s'. Try %s HELP."
)
# --- server administration (CLIENT, CONFIG, INFO, OBJECT, MEMORY, SLOWLOG, LATENCY, DEBUG) ---
ERR_PROTECTED_MODE: Final = (
    "DENIED Redis is running in protected mode because protected mode is enabled and no "
    "password is set for the default user. In this mode connections are only accepted from the "
    "loopback interface. If you want to connect from external computers to Redis you may adopt "
    "one of the following solutions: 1) Just disable protected mode sending the command "
    "'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the "
    "same host the server is running, however MAKE SURE Redis is not publicly accessible from "
    "internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively "
    "you can just disable the protected mode by editing the Redis configuration file, and "
    "setting the protected mode option to 'no', and then restarting the server. 3) If you "
    "started the server manually just for testing, restart it with the '--protected-mode no' "
    "option. 4) Setup a an authentication password for the default user. NOTE: You only need "
    "to do one of the above things in order for the server to start accepting connections from "
    "the outside."
)
ERR_MAX_CLIENTS: Final = "ERR max number of clients reached"
ERR_NO_SUCH_CLIENT: Final = "ERR No such client"
ERR_UNKNOWN_CLIENT_TYPE: Final = "ERR Unknown client type '%s'"
ERR_NO_SUCH_USER: Final = "ERR No such user '%s'"
ERR_CLIENT_ID: Final = "ERR client-id should be greater than 0"
ERR_INVALID_CLIENT_ID: Final = "ERR Invalid client ID"
ERR_PAUSE_MODE: Final = "ERR CLIENT PAUSE mode must be WRITE or ALL"
ERR_TIMEOUT_NOT_INTEGER: Final = "ERR timeout is not an integer or out of range"
ERR_TIMEOUT_NEGATIVE: Final = "ERR timeout is negative"
ERR_NO_CONFIG_FILE: Final = "ERR The server is running without a config file"
ERR_REWRITE_FAILED: Final = "ERR Rewriting config file: %s"
ERR_LFU_NOT_SELECTED: Final = (
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
    "that when switching between policies at runtime LRU and LFU data will take some time to "
    "adjust."
)
ERR_LFU_SELECTED: Final = (
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust."
)
ERR_SLOWLOG_COUNT: Final = "ERR count should be greater than or equal to -1"
# --- persistence (rdb.c, aof.c, cluster.c DUMP/RESTORE, debug.c, replication.c SYNC) ---
ERR_PLAIN: Final = "ERR"  # shared.err: a save that failed
ERR_BGSAVE_IN_PROGRESS: Final = "ERR Background save already in progress"
ERR_BGSAVE_CHILD_ACTIVE: Final = (
    "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE "
    "in order to schedule a BGSAVE whenever possible."
)
ERR_BGREWRITEAOF_IN_PROGRESS: Final = (
    "ERR Background append only file rewriting already in progress"
)
ERR_BGREWRITEAOF_FAILED: Final = (
    "ERR Can't execute an AOF background rewriting. Please check the server logs for more "
    "information."
)
ERR_DUMP_PAYLOAD: Final = "ERR DUMP payload version or checksum are wrong"
ERR_BAD_DATA_FORMAT: Final = "ERR Bad data format"
ERR_BUSYKEY: Final = "BUSYKEY Target key name already exists."
ERR_INVALID_TTL: Final = "ERR Invalid TTL value, must be >= 0"
ERR_INVALID_IDLETIME: Final = "ERR Invalid IDLETIME value, must be >= 0"
ERR_INVALID_FREQ: Final = "ERR Invalid FREQ value, must be >= 0 and <= 255"
ERR_DEBUG_RELOAD_OPTIONS: Final = (
    "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."
)
ERR_DEBUG_RELOAD_LOAD: Final = "ERR Error trying to load the RDB dump"
ERR_DEBUG_DISABLED: Final = (
    'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", '
    "you can run it from a local connection, otherwise you need to set this option in the "
    "configuration file, and then restart the server."
)
ERR_SHUTDOWN_ERRORS: Final = "ERR Errors trying to SHUTDOWN. Check logs."
ERR_SHUTDOWN_ABORT_NOT_RUNNING: Final = "ERR No shutdown in progress."
# --- lists and blocking commands ---
ERR_POSITIVE: Final = "ERR value is out of range, must be positive"
ERR_LPOS_RANK_ZERO: Final = (
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
    "or use negative to start from the end of the list"
)
ERR_LPOS_COUNT_NEGATIVE: Final = "ERR COUNT can't be negative"
ERR_LPOS_MAXLEN_NEGATIVE: Final = "ERR MAXLEN can't be negative"
ERR_TIMEOUT_NOT_FLOAT: Final = "ERR timeout is not a float or out of range"
ERR_UNBLOCK_REASON: Final = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
ERR_UNBLOCKED_BY_CLIENT: Final = "UNBLOCKED client unblocked via CLIENT UNBLOCK"
ERR_UNBLOCKED_ROLE_CHANGE: Final = (
    "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)"
)
ERR_REPLCONF_OPTION: Final = "ERR Unrecognized REPLCONF option: %s"
ERR_REPLCONF_IP_TOO_LONG: Final = (
    "ERR REPLCONF ip-address provided by replica instance is too long: %d bytes"
)
ERR_RANGE_0_1: Final = "ERR value is out of range, value must between 0 and 1"
ERR_REPLCONF_FILTER_MISSING: Final = "ERR Missing rdb-filter-only values"
ERR_REPLCONF_FILTER: Final = "ERR Unsupported rdb-filter-only option: %s"
ERR_SYNC_PENDING_OUTPUT: Final = "ERR SYNC and PSYNC are invalid with pending output"

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
# --- sentinel (sentinel.c) ---
ERR_NO_SUCH_MASTER: Final = "ERR No such master with that name"
ERR_SENTINEL_SAVE_CONFIG: Final = "ERR Failed to save config file. Check server logs."
ERR_SENTINEL_ONLY_HELLO: Final = "ERR Only HELLO messages are accepted by Sentinel instances."
ERR_SENTINEL_INPROG: Final = "INPROG Failover already in progress"
ERR_SENTINEL_NOGOODSLAVE: Final = "NOGOODSLAVE No suitable replica to promote"
ERR_SENTINEL_INVALID_QUORUM: Final = "ERR Invalid quorum"
ERR_SENTINEL_INVALID_PORT: Final = "ERR Invalid port"
ERR_SENTINEL_QUORUM_MIN: Final = "ERR Quorum must be 1 or greater."
ERR_SENTINEL_INVALID_IP: Final = "ERR Invalid IP address or hostname specified"
ERR_SENTINEL_CONFIG_FORM: Final = (
    "ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported."
)
ERR_SENTINEL_SCRIPTS_DENIED: Final = (
    "ERR Reconfiguration of scripts path is denied for security reasons. Check the "
    "deny-scripts-reconfig configuration directive in your Sentinel configuration"
)
ERR_SENTINEL_NOTIFICATION_SCRIPT: Final = (
    "ERR Notification script seems non existing or non executable"
)
ERR_SENTINEL_RECONFIG_SCRIPT: Final = (
    "ERR Client reconfiguration script seems non existing or non executable"
)
ERR_SENTINEL_SET_UNKNOWN: Final = "ERR Unknown option or number of arguments for SENTINEL SET '%s'"
ERR_SENTINEL_SET_INVALID: Final = "ERR Invalid argument '%s' for SENTINEL SET '%s'"
ERR_SENTINEL_CONFIG_SET_VALUE: Final = "ERR Invalid value '%s' to SENTINEL CONFIG SET '%s'"
ERR_SENTINEL_CONFIG_SET_OPTION: Final = "ERR Invalid argument '%s' to SENTINEL CONFIG SET"
ERR_SENTINEL_DEBUG_UNKNOWN: Final = (
    "ERR Unknown option or number of arguments for SENTINEL DEBUG '%s'"
)
ERR_SENTINEL_DEBUG_INVALID: Final = "ERR Invalid argument '%s' for SENTINEL DEBUG '%s'"
ERR_SENTINEL_SIMULATE: Final = "ERR Unknown failure simulation specified"
ERR_SENTINEL_NOQUORUM: Final = "NOQUORUM %d usable Sentinels. "
ERR_SENTINEL_NOQUORUM_QUORUM: Final = (
    "Not enough available Sentinels to reach the specified quorum for this master"
)
ERR_SENTINEL_NOQUORUM_MAJORITY: Final = (
    "Not enough available Sentinels to reach the majority and authorize a failover"
)
# --- replication (replication.c, server.c processCommand) ---
ERR_MASTERDOWN: Final = (
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
)
ERR_NOMASTERLINK_SYNC: Final = "NOMASTERLINK Can't SYNC while not connected with my master"
ERR_FILTERED_NEEDS_EOF: Final = "ERR Filtered replica requires EOF capability"
ERR_WAIT_ON_REPLICA: Final = (
    "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if "
    "a replica is configured to be writable (which is not the default) writes to replicas are "
    "just local and are not propagated."
)
ERR_INVALID_MASTER_PORT: Final = "ERR Invalid master port"
ERR_REPLICAOF_FROM_REPLICA: Final = "ERR Command is not valid when client is a replica."
ERR_REPLICAOF_CLUSTER: Final = "ERR REPLICAOF not allowed in cluster mode."
ERR_NOTBUSY: Final = "NOTBUSY No scripts in execution right now."

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


def err_subcommand_syntax(argv: Sequence[bytes]) -> str:
    """addReplySubcommandSyntaxError: a subcommand given the wrong arguments."""
    return (
        f"ERR unknown subcommand or wrong number of arguments for '{_shown(argv[1][:128])}'. "
        f"Try {_shown(argv[0]).upper()} HELP."
    )


def err_invalid_expire(command: str) -> str:
    return ERR_INVALID_EXPIRE % command


def err_unsupported_option(option: bytes) -> str:
    """EXPIRE's unknown-flag error: the option as a C string, trailing CR/LF trimmed."""
    shown = _shown(option.split(b"\0", 1)[0]).rstrip("\r\n")
    return ERR_UNSUPPORTED_OPTION % shown
