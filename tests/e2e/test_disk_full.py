"""A disk that fills up mid-run: the run stops with a message naming the home and what to do, never
a traceback; readers keep the last snapshot, and the run after space is freed heals the warehouse.

The disk is real: a small tmpfs, filled to leave a few bytes free. Mounting needs root with
CAP_SYS_ADMIN (CI machines have it); elsewhere the test skips."""

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.assets.helpers import table_digests
from tests.e2e.helpers import vixshield
from tests.e2e.test_cli_failures import published

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
        snapshot = published(home)
        filler = fill(disk, leave)
        out = vixshield(home, "run", "--source", "files", "--data-dir", str(market_template))
        assert out.returncode == 1, out.stderr
        assert "Traceback" not in out.stderr, out.stderr
        assert "disk is full" in out.stderr and str(home) in out.stderr, out.stderr
        assert published(home) == snapshot
        filler.unlink()
        out = vixshield(home, "run", "--source", "files", "--data-dir", str(market_template))
        assert out.returncode == 0, out.stderr
        assert table_digests(home / "warehouse.duckdb", stamps=False) == table_digests(
            cli_built.home / "warehouse.duckdb", stamps=False
        )
