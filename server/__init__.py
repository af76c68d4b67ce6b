"""Duocache's server: configuration, connections, dispatch and the command families."""
