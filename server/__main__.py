"""`python -m server [config-file] [--directive value ...]`: run a Duocache server."""

from server.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
