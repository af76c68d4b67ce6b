"""Wire protocols, sans-IO: RESP and the memcached text protocol. Imports nothing of ours."""
