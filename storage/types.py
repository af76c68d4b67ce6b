"""Importing this module registers every value type with storage.values."""

from storage.hashes import HashValue
from storage.lists import ListValue
from storage.sets import SetValue
from storage.zset import ZSet

__all__ = ["HashValue", "ListValue", "SetValue", "ZSet"]
