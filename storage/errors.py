"""Domain errors raised by storage. Each protocol maps them to its own wire text."""


class StorageError(Exception):
    """Base class: a request the data cannot satisfy."""


class WrongTypeError(StorageError):
    """The key holds a value of another type."""


class NotAnIntegerError(StorageError):
    """The stored value is not a base-10 64-bit integer."""


class NotAFloatError(StorageError):
    """The stored value is not a valid float."""


class IncrOverflowError(StorageError):
    """The increment or decrement would overflow a 64-bit integer."""


class NoSuchKeyError(StorageError):
    """The key does not exist where the operation requires it."""


class IndexOutOfRangeError(StorageError):
    """An index is outside the value."""


class ValueTooLargeError(StorageError):
    """The result would exceed the configured size limit."""


class OutOfMemoryError(StorageError):
    """maxmemory is reached and the policy forbids eviction."""
