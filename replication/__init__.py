"""Replication: primary, replica, backlog, handshake and failover."""
