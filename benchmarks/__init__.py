"""Benchmarks: Duocache against real redis-server and memcached on the same machine."""
