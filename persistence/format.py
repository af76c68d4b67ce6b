"""RDB format constants, one line each, as Redis's rdb.h names them.

No code here. The writer (rdb.py) emits RDB_WRITE_VERSION with the plain value types only;
the reader takes every type and opcode Redis 7.x (RDB versions 1 to 12) writes, and
refuses streams and module values by name.
"""

from __future__ import annotations

from typing import Final

# --- header and versions ---

MAGIC: Final = b"REDIS"  # the file starts with MAGIC + 4 ASCII digits
RDB_WRITE_VERSION: Final = 9  # what we write: Redis 5.0 to 8.x all load it
RDB_MAX_READ_VERSION: Final = 12  # newest version we read (Redis 7.4)
REDIS_70_RDB_VERSION: Final = 10  # Redis 7.0's RDB_VERSION (DUMP payloads it writes)

# --- length encoding (first byte's top two bits) ---

LEN_6BIT: Final = 0  # 00xxxxxx
LEN_14BIT: Final = 1  # 01xxxxxx xxxxxxxx (big endian)
LEN_32BIT: Final = 0x80  # 10000000 + 4 bytes big endian
LEN_64BIT: Final = 0x81  # 10000001 + 8 bytes big endian
LEN_ENCVAL: Final = 3  # 11xxxxxx: a special string encoding follows in the low 6 bits

# --- special string encodings (low bits after 11) ---

ENC_INT8: Final = 0  # 8 bit signed integer
ENC_INT16: Final = 1  # 16 bit signed integer, little endian
ENC_INT32: Final = 2  # 32 bit signed integer, little endian
ENC_LZF: Final = 3  # LZF: <compressed len><original len><data>

# --- value types ---

TYPE_STRING: Final = 0  # a string
TYPE_LIST: Final = 1  # <len> strings (plain list)
TYPE_SET: Final = 2  # <len> strings
TYPE_ZSET: Final = 3  # <len> (member, score as a length-prefixed ASCII double)
TYPE_HASH: Final = 4  # <len> (field, value)
TYPE_ZSET_2: Final = 5  # <len> (member, score as a binary little-endian double)
TYPE_MODULE_PRE_GA: Final = 6  # module value before 4.0 GA (refused)
TYPE_MODULE_2: Final = 7  # module value with opcodes (refused)
TYPE_HASH_ZIPMAP: Final = 9  # hash as a zipmap (Redis < 2.6)
TYPE_LIST_ZIPLIST: Final = 10  # list as one ziplist
TYPE_SET_INTSET: Final = 11  # set as an intset
TYPE_ZSET_ZIPLIST: Final = 12  # sorted set as a ziplist of member, score
TYPE_HASH_ZIPLIST: Final = 13  # hash as a ziplist of field, value
TYPE_LIST_QUICKLIST: Final = 14  # list as <len> ziplists
TYPE_STREAM_LISTPACKS: Final = 15  # stream (refused)
TYPE_HASH_LISTPACK: Final = 16  # hash as a listpack of field, value (7.0)
TYPE_ZSET_LISTPACK: Final = 17  # sorted set as a listpack of member, score (7.0)
TYPE_LIST_QUICKLIST_2: Final = 18  # list as <len> (container, node) (7.0)
TYPE_STREAM_LISTPACKS_2: Final = 19  # stream, 7.0 layout (refused)
TYPE_SET_LISTPACK: Final = 20  # set as a listpack (7.2)
TYPE_STREAM_LISTPACKS_3: Final = 21  # stream, 7.2 layout (refused)
TYPE_HASH_METADATA_PRE_GA: Final = 22  # hash with field expiry, 7.4 RC (refused)
TYPE_HASH_LISTPACK_EX_PRE_GA: Final = 23  # listpack hash with field expiry, 7.4 RC (refused)
TYPE_HASH_METADATA: Final = 24  # hash with field expiry (7.4, refused)
TYPE_HASH_LISTPACK_EX: Final = 25  # listpack hash with field expiry (7.4, refused)

# Quicklist 2 node containers.
QUICKLIST_NODE_PLAIN: Final = 1  # the node is one element
QUICKLIST_NODE_PACKED: Final = 2  # the node is a listpack of elements

# --- opcodes (a byte where a value type would be) ---

OPCODE_SLOT_INFO: Final = 244  # cluster slot sizes hint (7.4): <slot><size><expires size>
OPCODE_FUNCTION2: Final = 245  # a function library (skipped with a warning)
OPCODE_FUNCTION_PRE_GA: Final = 246  # 7.0 release-candidate functions (refused, as Redis)
OPCODE_MODULE_AUX: Final = 247  # module auxiliary data (skipped with a warning)
OPCODE_IDLE: Final = 248  # LRU idle seconds of the next key: <len>
OPCODE_FREQ: Final = 249  # LFU counter of the next key: 1 byte
OPCODE_AUX: Final = 250  # aux field: <string key><string value>
OPCODE_RESIZEDB: Final = 251  # sizes hint: <len keys><len keys with expiry>
OPCODE_EXPIRETIME_MS: Final = 252  # deadline of the next key: int64 ms, little endian
OPCODE_EXPIRETIME: Final = 253  # deadline of the next key: int32 seconds (legacy)
OPCODE_SELECTDB: Final = 254  # following keys belong to database <len>
OPCODE_EOF: Final = 255  # end of data; 8 bytes of CRC64 follow (version >= 5)

# Module value opcodes (module aux data is a sequence of these, ended by MODULE_OPCODE_EOF).
MODULE_OPCODE_EOF: Final = 0  # end of the module value
MODULE_OPCODE_SINT: Final = 1  # signed integer as a length
MODULE_OPCODE_UINT: Final = 2  # unsigned integer as a length
MODULE_OPCODE_FLOAT: Final = 3  # 4-byte float
MODULE_OPCODE_DOUBLE: Final = 4  # 8-byte double
MODULE_OPCODE_STRING: Final = 5  # a string

# --- compact encodings inside string blobs ---

# ziplist entry encodings (first byte of the encoding field)
ZIP_STR_06B: Final = 0x00  # 00pppppp: string, 6-bit length
ZIP_STR_14B: Final = 0x40  # 01pppppp qqqqqqqq: string, 14-bit length (big endian)
ZIP_STR_32B: Final = 0x80  # 10000000 + 4 bytes big endian length
ZIP_INT_16B: Final = 0xC0  # int16 little endian
ZIP_INT_32B: Final = 0xD0  # int32 little endian
ZIP_INT_64B: Final = 0xE0  # int64 little endian
ZIP_INT_24B: Final = 0xF0  # int24 little endian
ZIP_INT_8B: Final = 0xFE  # int8
ZIP_BIG_PREVLEN: Final = 0xFE  # prevlen >= 254: 0xFE + 4 bytes little endian
ZIP_END: Final = 0xFF  # end of ziplist

# listpack entry encodings
LP_EOF: Final = 0xFF  # end of listpack
LP_HEADER_SIZE: Final = 6  # <u32 total bytes><u16 element count>

# zipmap
ZIPMAP_BIGLEN: Final = 254  # length >= 254: 254 + 4 bytes little endian
ZIPMAP_END: Final = 255  # end of zipmap

# --- aux fields we write ---

AUX_REDIS_VER: Final = b"redis-ver"
AUX_REDIS_BITS: Final = b"redis-bits"
AUX_CTIME: Final = b"ctime"
AUX_USED_MEM: Final = b"used-mem"
AUX_REPL_STREAM_DB: Final = b"repl-stream-db"
AUX_REPL_ID: Final = b"repl-id"
AUX_REPL_OFFSET: Final = b"repl-offset"
AUX_AOF_BASE: Final = b"aof-base"
AUX_MCMETA: Final = b"duocache-mcmeta"  # Duocache: memcached flags and CAS of db 0 keys

# --- DUMP payloads ---

DUMP_FOOTER_SIZE: Final = 10  # <u16 LE RDB version><u64 LE CRC64>
