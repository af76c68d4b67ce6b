"""Data structures and the keyspace. Knows nothing about RESP or memcached."""
