"""A home on a disk that fills up mid-run, or on a read-only disk: the run stops with a message naming
the home and what to do, never a traceback; readers keep reading the last snapshot, and the run after
the disk is fixed heals the warehouse.

The disks are real: a small tmpfs, filled to leave a few bytes free, or remounted read-only (which
stops root too, unlike file permissions). Mounting needs root with
CAP_SYS_ADMIN (CI machines have it); elsewhere the test skips."""

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.assets.helpers import table_digests
from tests.e2e.helpers import published_bytes, vixshield

pytestmark = pytest.mark.slow  # runs the whole pipeline


@contextlib.contextmanager
def small_disk(where: Path, size_mb: int) -> Iterator[Path]:
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.decode().strip() or 'not root'})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Take all but `leave` bytes of the disk."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    subprocess.run(["fallocate", "-l", str(max(free - leave, 0)), str(filler)], check=True)
    return filler


@pytest.mark.parametrize("leave", [150_000, 3_000_000], ids=["150KB", "3MB"])
def test_a_full_disk_stops_the_run_with_a_message_and_freeing_space_heals(tmp_path, cli_built, market_template, leave):
    with small_disk(tmp_path / "disk", 64) as disk:
        home = Path(shutil.copytree(cli_built.home, disk / "home"))
        snapshot = published_bytes(home)
        filler = fill(disk, leave)
        out = vixshield(home, "run", "--source", "files", "--data-dir", str(market_template))
        assert out.returncode == 1, out.stderr
        assert "Traceback" not in out.stderr, out.stderr
        assert "disk is full" in out.stderr and str(home) in out.stderr, out.stderr
        assert published_bytes(home) == snapshot
        filler.unlink()
        out = vixshield(home, "run", "--source", "files", "--data-dir", str(market_template))
        assert out.returncode == 0, out.stderr
        assert table_digests(home / "warehouse.duckdb", stamps=False) == table_digests(
            cli_built.home / "warehouse.duckdb", stamps=False
        )


def test_a_read_only_home_refuses_the_run_and_still_serves_readers(tmp_path, cli_built, market_template):
    with small_disk(tmp_path / "disk", 64) as disk:
        home = Path(shutil.copytree(cli_built.home, disk / "home"))
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        out = vixshield(home, "run", "--source", "files", "--data-dir", str(market_template))
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
        assert f"the home folder {home} is not writable" in out.stderr
        out = vixshield(home, "query", "SELECT count(*) AS n FROM signals.condor_plan", "--format", "csv")
        assert out.returncode == 0 and out.stdout.split()[-1].isdigit(), out.stderr
        assert vixshield(home, "signals").returncode == 0
