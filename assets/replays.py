"""replay/session: one partition per NYSE session since 1990; materializing a partition replays that
session (the `vixshield run --as-of D` semantics) into its own home, `$VIXSHIELD_HOME/replays/D`, and
records whether it loaded, validated and what the plan said. The UI's partition view is the
per-session status; a backfill over a range launches a range of replays, each watchable as it runs.

The partitions are the cron `30 18 * * 1-5` (after the close, New York) minus NYSE holidays, with
end_offset=1, so a session is offered from 18:30 on its own day. The edges (tested on 1990-2026):
- end_offset=0 would offer Friday's session only on Monday evening (its window closes then);
- end_offset=1 offers, on a holiday evening, the next session, which has not traded yet, and
  without the holiday exclusions it would offer the holiday itself. A session whose close has not
  passed is refused, as `--as-of` refuses it.

The replay runs the CLI in a child process: the same code path, and a warehouse of its own (DuckDB
allows one writer per file, and a replay must never mix with the daily warehouse)."""

import datetime as dt
import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import dagster as dg
import duckdb

from assets.resources import VixShieldResource
from vixshield import calendars

START = "1990-01-02"
CRON = "30 18 * * 1-5"  # the daily schedule's time: after the close on weekdays
TZ = "America/New_York"


@cache
def holidays() -> tuple[dt.date, ...]:
    """Weekdays without an NYSE session, from START to the end of the calendar (two years ahead)."""
    known = calendars.sessions(START, "2100-01-01")
    sessions = {d.date() for d in known}
    day, last, out = dt.date.fromisoformat(START), known[-1].date(), []
    while day <= last:
        if day.weekday() < 5 and day not in sessions:
            out.append(day)
        day += dt.timedelta(days=1)
    return tuple(out)


def session_partitions(end_offset: int = 1) -> dg.TimeWindowPartitionsDefinition:
    close = dt.time(18, 30)
    return dg.TimeWindowPartitionsDefinition(
        start=START,
        fmt="%Y-%m-%d",
        cron_schedule=CRON,
        timezone=TZ,
        end_offset=end_offset,
        exclusions=[dt.datetime.combine(day, close) for day in holidays()],
    )


SESSIONS = session_partitions()


def refusal(session: str, now: dt.datetime | None = None) -> str | None:
    """Why `session` cannot be replayed (not a session; not closed yet: end_offset=1 offers the next
    session on a holiday evening), or None."""
    if not calendars.is_session(session):
        return f"{session} is not an NYSE session"
    last = calendars.last_completed_session(now).date()
    if dt.date.fromisoformat(session) > last:
        return f"{session} has not closed yet (the last completed NYSE session is {last})"
    return None


class ReplayResource(dg.ConfigurableResource):
    """Where replays go: one home per session under `root`; empty: `replays/` in the home of the run's
    settings ($VIXSHIELD_HOME), read when the run launches."""

    root: str = ""

    def home(self, session: str, settings_home: Path) -> Path:
        return (Path(self.root) if self.root else settings_home / "replays").resolve() / session


@dg.asset(
    key=["replay", "session"],
    group_name="replays",
    partitions_def=SESSIONS,
    kinds={"duckdb", "python"},
    description="A replay of one NYSE session as of its close (vixshield run --as-of) into "
    "$VIXSHIELD_HOME/replays/<session>: loaded, validated, and the plan it produced.",
)
def replay_session(
    context: dg.AssetExecutionContext, vixshield: VixShieldResource, replays: ReplayResource
) -> dg.MaterializeResult:
    session = context.partition_key
    if problem := refusal(session):
        raise dg.Failure(problem)
    home = replays.home(session, vixshield.settings().home)
    cmd = [sys.executable, "-m", "pipelines.cli", "--home", str(home)]
    if vixshield.config_file:
        cmd += ["--config", vixshield.config_file]
    cmd += ["run", "--source", vixshield.source, "--as-of", session]
    if vixshield.data_dir:
        cmd += ["--data-dir", vixshield.data_dir]
    env = {**os.environ, "VIXSHIELD_HOME": str(home)}
    context.log.info(f"replaying {session} into {home}")
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as child:
        for line in child.stdout:  # the CLI's progress lines, live in the run's log
            if line.strip():
                context.log.info(line.rstrip())
    if child.returncode != 0:
        raise dg.Failure(f"the replay of {session} failed (exit code {child.returncode}); its log is above")
    return dg.MaterializeResult(metadata=replay_metadata(home, session))


def replay_metadata(home: Path, session: str) -> dict:
    """Loaded (the session is in core.market_daily), validated (its checks), and the plan's gist."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        run_id, status, message = conn.execute(
            "SELECT run_id, status, message FROM meta.runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
        loaded = conn.execute("SELECT count(*) FROM core.market_daily WHERE date = ?", [session]).fetchone()[0] == 1
        failed = conn.execute(
            "SELECT asset || '.' || check_name FROM meta.check_results WHERE run_id = ? AND NOT passed ORDER BY 1",
            [run_id],
        ).fetchall()
        plan = conn.execute(
            "SELECT regime, enter, expiry, short_put, short_call, credit FROM signals.condor_plan WHERE date = ?",
            [session],
        ).fetchone()
    return {
        "home": dg.MetadataValue.path(str(home)),
        "loaded": loaded,
        "validated": status == "success",
        "checks_failed": dg.MetadataValue.json([f for (f,) in failed]),
        "regime": plan[0] if plan else None,
        "condor_enter": bool(plan[1]) if plan else None,
        "plan": dg.MetadataValue.json(json.loads(json.dumps(plan, default=str)) if plan else None),
        "run": message,
    }
