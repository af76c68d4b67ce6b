"""`python -m benchmarks --quick` keeps working (the figures themselves live in benchmarks/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_quick_benchmark_writes_a_report(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    report = (tmp_path / "latest.md").read_text()
    assert "| set (redis) | 3 B | 16 |" in report
    assert "Memory per key" in report
    assert "`appendonly yes`, `appendfsync everysec`" in report
    assert "BGSAVE of 50,000 keys, Duocache" in report
    assert "Loading that snapshot" in report
