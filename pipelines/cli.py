"""`vixshield run | backtest | research | query | signals | tickets | serve | doctor | dictionary`: the
daily job through Dagster in process, the backtest and the walk-forward research, SQL on the published
warehouse, the day's plan and its order tickets, the today page and its JSON API."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from vixshield import METHODOLOGY_VERSION
from vixshield.ingest.sources import SOURCE_NAMES

# pandas, DuckDB, pydantic and the rest are imported by the commands that use them: `run` starts its
# Great Expectations worker (vixshield/validate/expectations.py) before any of them is loaded

if TYPE_CHECKING:
    import duckdb

    from vixshield.config import Settings


def _home(args) -> Path:
    return Path(args.home or os.environ.get("VIXSHIELD_HOME") or "data")


def cmd_run(args) -> int:
    import duckdb

    from vixshield.ingest.sources import SourceError, make_source
    from vixshield.store import warehouse

    home = _home(args)
    settings = args.settings
    try:
        source = make_source(args.source, settings, args.data_dir)
        if source.live:
            print("checking the live sources ...", file=sys.stderr)
            source.preflight()
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    problem = _as_of_problem(args.as_of) or _home_problem(home)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from vixshield.validate import expectations

    expectations.start_worker()  # idempotent: main() started it, GX imports on the other core meanwhile
    # Held for the whole run: every step's connection then joins this open database instead of
    # reopening (and checkpointing) the file, ~40 ms a step, and no other process can write between steps.
    try:
        conn = warehouse.connect(settings.warehouse_path)
    except duckdb.Error as exc:
        expectations.stop_worker()
        print(f"error: {_warehouse_problem(settings.warehouse_path, exc)}", file=sys.stderr)
        return 2
    try:
        return _execute(args, home, settings, conn)
    except Exception as exc:
        if not (cause := warehouse.storage_full(exc)):
            raise
        with contextlib.suppress(duckdb.Error):  # the warehouse's disk may refuse this too
            conn.execute("UPDATE meta.runs SET status = 'failure', message = ? WHERE status = 'running'", [cause])
        print(
            f"error: cannot write under {home.resolve()}: {cause}. The disk is full (or failing): free some space "
            "there, then rerun. Nothing was published: readers keep the last snapshot.",
            file=sys.stderr,
        )
        return 1
    finally:
        conn.close()
        expectations.stop_worker()


def _as_of_problem(as_of: str | None) -> str | None:
    """Why `--as-of` cannot be used (checked before Dagster starts), or None."""
    if not as_of:
        return None
    try:
        day = dt.date.fromisoformat(as_of)
    except ValueError:
        return f"--as-of {as_of!r} is not a date; write it as YYYY-MM-DD"
    from vixshield import calendars

    last = calendars.last_completed_session().date()
    if day > last:
        return f"--as-of {day} is after the last completed NYSE session ({last}); no close is known for it yet"
    return None


def _home_problem(home: Path) -> str | None:
    """Why the run cannot write under `home`, or None (creating it if needed)."""
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create the home folder {home} ({exc.strerror}); set VIXSHIELD_HOME to a writable folder"
    if not os.access(home, os.W_OK | os.X_OK):
        return f"the home folder {home} is not writable; set VIXSHIELD_HOME to a writable folder"
    return None


def _warehouse_problem(path: Path, exc: Exception) -> str:
    """What to do about a warehouse file DuckDB would not open for writing."""
    text = str(exc)
    if "lock" in text.lower():
        return f"the warehouse {path} is in use by another process (another `vixshield run`?); wait for it, then rerun"
    if "permission" in text.lower() or "read-only" in text.lower():
        return f"the warehouse {path} cannot be opened for writing ({text}); fix its permissions or set VIXSHIELD_HOME"
    return (
        f"the warehouse {path} cannot be opened ({type(exc).__name__}: {text}). If it is damaged, move it aside: "
        "the next run rebuilds it from the sources (readers keep the last published snapshot meanwhile)"
    )


def _close_stale_runs(conn: duckdb.DuckDBPyConnection) -> int:
    """Mark runs still 'running' as 'killed': this process holds the only write connection to the
    warehouse, so any such row belongs to a run that died (SIGKILL, power loss) before recording its end."""
    (n,) = conn.execute(
        "UPDATE meta.runs SET status = 'killed', finished_at = ?, message = 'the process ended before the run did' "
        "WHERE status = 'running'",
        [dt.datetime.now(dt.UTC).replace(tzinfo=None)],
    ).fetchone()
    return int(n)


def _execute(args, home: Path, settings: Settings, conn: duckdb.DuckDBPyConnection) -> int:
    """The daily job in process, bracketed by its meta.runs row; prints the progress and the summary."""

    from assets.resources import make_resources
    from pipelines.definitions import defs
    from pipelines.instance import recording
    from pipelines.progress import progress_logger
    from vixshield.store import warehouse

    run_id = str(uuid.uuid4())
    db_path = settings.warehouse_path
    warehouse.init_schema(conn)
    if stale := _close_stale_runs(conn):
        print(f"closed {stale} earlier run(s) left 'running' by a killed process as 'killed'", file=sys.stderr)
    print(
        f"vixshield run {run_id[:8]}: source={args.source} as_of={args.as_of or 'latest'} warehouse={db_path}",
        file=sys.stderr,
    )
    t0 = time.perf_counter()
    job = defs.resolve_job_def("daily")
    # the settings validated above, as a value: the digest in meta.runs is what every step runs with
    resources = make_resources(
        db_path,
        source=args.source,
        data_dir=args.data_dir,
        as_of=args.as_of,
        settings=settings,
        config_file=args.config,
    )
    job = job.with_logger_defs({"progress": progress_logger})
    with recording(home) as instance:
        result = job.execute_in_process(
            run_config={"loggers": {"progress": {}}},
            instance=instance,
            resources=resources,
            run_id=run_id,
            raise_on_error=False,
        )
    elapsed = time.perf_counter() - t0
    # the run wrote its own meta.runs row (assets/runlog.py), as a scheduled or UI-launched run does
    got = conn.execute("SELECT status, as_of, row_counts, message FROM meta.runs WHERE run_id = ?", [run_id]).fetchone()
    status, as_of, counts = (got[0], got[1], json.loads(got[2] or "{}")) if got else ("failure", None, {})
    checks = conn.execute(
        "SELECT severity, passed, count(*) FROM meta.check_results WHERE run_id = ? GROUP BY ALL", [run_id]
    ).fetchall()
    status = status if result.success else "failure"
    passed = sum(n for sev, ok, n in checks if ok)
    warned = sum(n for sev, ok, n in checks if not ok and sev == "WARN")
    failed = sum(n for sev, ok, n in checks if not ok and sev == "ERROR")
    print("\nrows per table:", file=sys.stderr)
    for table, n in counts.items():
        print(f"  {table:<32} {n:>10,}", file=sys.stderr)
    print(
        f"\n{status.upper()}: as of {as_of}; checks {passed} passed, {warned} warned, {failed} failed; {elapsed:.1f}s",
        file=sys.stderr,
    )
    if result.success:
        from vixshield.serve import publish

        print(f"published {publish.snapshot_path(home)} for readers (vixshield query / signals, apps)", file=sys.stderr)
    else:
        print(
            f"see the failing step above; nothing was published. The full event log is run {run_id} in the Dagster "
            f"UI (`make ui`, or `dg dev -w workspace.yaml` with VIXSHIELD_HOME={home})",
            file=sys.stderr,
        )
    return 0 if result.success else 1


QUERY_TIMEOUT = 60.0  # seconds a `vixshield query` may run by default (`--timeout`; 0: no limit)
EXIT_TIMEOUT = 124  # the query ran past --timeout (the exit code of coreutils `timeout`)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as a shell reports it


class _QueryTimeout(Exception):
    """The timer interrupted the query."""


def _interruptible(open_conn, work, timeout: float | None):
    """`work(conn)` on `open_conn()`, both in a worker thread, stopped by conn.interrupt() when
    `timeout` seconds pass (a timer thread) or on Ctrl-C.

    While a query runs, DuckDB holds the thread that called it, so Ctrl-C would wait for the query;
    the main thread only waits here, on an Event (KeyboardInterrupt inside Thread.join leaves the
    Thread object wrong on Python 3.11), and so stays interruptible. The connection is opened and
    closed in the worker: DuckDB refuses to close a connection another thread is using."""
    import duckdb

    outcome: dict = {}
    done, expired, cancelled = threading.Event(), threading.Event(), threading.Event()

    def run() -> None:
        try:
            with open_conn() as conn:
                outcome["conn"] = conn
                if not cancelled.is_set():
                    outcome["value"] = work(conn)
        except BaseException as exc:  # handed to the main thread
            outcome["error"] = exc
        finally:
            done.set()

    def stop(flag: threading.Event) -> None:
        flag.set()
        if (conn := outcome.get("conn")) is not None and not done.is_set():
            with contextlib.suppress(duckdb.Error):  # the query ended meanwhile
                conn.interrupt()

    timer = threading.Timer(timeout, stop, [expired]) if timeout else None
    threading.Thread(target=run, name="vixshield-query", daemon=True).start()
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        while not done.wait(0.1):  # bounded waits: SIGINT is seen at once on every platform
            pass
    except KeyboardInterrupt:
        stop(cancelled)
        with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C: leave without waiting
            done.wait(5)  # an interrupted query returns within milliseconds
        raise
    finally:
        if timer is not None:
            timer.cancel()
    if "error" in outcome:
        if expired.is_set() and isinstance(outcome["error"], duckdb.InterruptException):
            raise _QueryTimeout from outcome["error"]
        raise outcome["error"]
    return outcome.get("value")


def _on_snapshot(args, work, timeout: float | None = None):
    """Run `work(conn)` on the published snapshot (never the working file a run may be writing),
    through a connection locked down by open_snapshot; Ctrl-C and `timeout` stop it. Errors a user
    can act on (no snapshot yet, bad or refused SQL, no such date) print one line and give 2; a
    timeout gives EXIT_TIMEOUT, Ctrl-C EXIT_INTERRUPTED. Returns (result or None, exit code)."""
    import duckdb

    from vixshield.serve import publish

    try:
        return _interruptible(lambda: publish.open_snapshot(_home(args)), work, timeout), 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return None, EXIT_INTERRUPTED
    except _QueryTimeout:
        print(
            f"error: query interrupted after {timeout:g} s: it ran past the time limit; "
            "raise --timeout SECONDS (0: no limit) or narrow the query",
            file=sys.stderr,
        )
        return None, EXIT_TIMEOUT
    except (publish.NoSnapshotError, LookupError, duckdb.Error) as exc:
        if publish.refused(exc):
            said = str(exc).splitlines()[0]
            print(f"error: refused: {publish.READER_LIMITS}. DuckDB said: {said}", file=sys.stderr)
        else:
            print(f"error: {exc}", file=sys.stderr)
        return None, 2


def cmd_query(args) -> int:
    frame, rc = _on_snapshot(args, lambda conn: conn.execute(args.sql).df(), timeout=args.timeout)
    if rc:
        return rc
    if args.format == "csv":
        frame.to_csv(sys.stdout, index=False)
    elif args.format == "json":
        print(frame.to_json(orient="records", date_format="iso"))
    else:
        from vixshield.serve.formats import readable

        print(readable(frame).to_string(index=False, max_rows=args.max_rows))
    return 0


def _seconds(text: str) -> float:
    """An argparse type: a non-negative number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def cmd_signals(args) -> int:
    """The day's plan: regime, condor plan or why none, actions on open condors, hedge layers."""
    from vixshield.serve import plan_text
    from vixshield.serve.plans import with_symbols
    from vixshield.strategy import signals

    plan, rc = _on_snapshot(args, lambda conn: with_symbols(conn, signals.plan_for(conn, args.date)))
    if rc:
        return rc
    if args.format == "json":
        print(json.dumps(plan, indent=2, default=str))
    elif args.format == "csv":
        from vixshield.serve.formats import plan_long_csv

        sys.stdout.write(plan_long_csv(plan))
    else:
        print(plan_text.render(plan))
    return 0


def cmd_tickets(args) -> int:
    """The session's order tickets (default: the latest) as JSON, CSV (one row per leg) or an IBKR basket."""
    from vixshield.serve import tickets

    if args.date:
        try:
            dt.date.fromisoformat(args.date)
        except ValueError:
            print(f"error: --date {args.date!r} is not a date; write it as YYYY-MM-DD", file=sys.stderr)
            return 2
    got, rc = _on_snapshot(args, lambda conn: tickets.read_tickets(conn, args.date))
    if rc:
        return rc
    day, rows = got
    if not rows:
        print(f"no orders for the session after {day}", file=sys.stderr)
    sys.stdout.write(tickets.render(rows, args.format) + ("\n" if args.format == "json" else ""))
    return 0


def cmd_serve(args) -> int:
    """The read-only HTTP API and today page over the published snapshot."""
    from vixshield.serve import api, publish

    home = _home(args)
    if not publish.snapshot_path(home).exists():
        print(f"error: no published snapshot under {home}; run `vixshield run` first", file=sys.stderr)
        return 2
    print(f"serving {publish.snapshot_path(home)} at http://{args.host}:{args.port}/ (read-only)", file=sys.stderr)
    api.serve(home, args.host, args.port)
    return 0


def parse_sweep(specs: list[str] | None) -> dict[str, tuple[float, ...]] | None:
    """`--sweep` alone: the default 50-point grid; `--sweep short_delta=0.12,0.16 take_profit=0.5`: that grid."""
    from vixshield.backtest import engine as backtest

    if specs is None:
        return None
    if not specs:
        return dict(backtest.DEFAULT_GRID)
    grid = {}
    for spec in specs:
        name, _, values = spec.partition("=")
        if name not in backtest.SWEEP_PARAMETERS or not values:
            raise ValueError(f"--sweep takes NAME=V1,V2,... with NAME in {', '.join(backtest.SWEEP_PARAMETERS)}")
        grid[name] = tuple(float(v) for v in values.split(","))
    return grid


def cmd_backtest(args) -> int:
    """Replay the book per strategy over history; write backtest.* and the report; republish."""
    import duckdb
    import pandas as pd

    from vixshield.backtest import engine as backtest
    from vixshield.backtest import job as backtest_job
    from vixshield.backtest import replicas
    from vixshield.store import warehouse

    home = _home(args)
    settings = args.settings
    strategies = [s for part in (args.strategy or list(backtest.STRATEGIES)) for s in part.split(",") if s]
    try:
        grid = parse_sweep(args.sweep)  # --from/--to are checked by run_backtest before any work
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    db_path = settings.warehouse_path
    if not db_path.exists():
        print(f"error: no warehouse at {db_path}: run `vixshield run` first", file=sys.stderr)
        return 2

    def say(msg: str) -> None:
        print(f"  {msg}", file=sys.stderr)

    t0 = time.perf_counter()
    print(
        f"vixshield backtest: {', '.join(strategies)} over {args.date_from or 'start'}..{args.date_to or 'end'}",
        file=sys.stderr,
    )
    try:
        with warehouse.connect(db_path) as conn:
            result = backtest_job.run_backtest(
                conn,
                settings.book,
                strategies,
                args.date_from,
                args.date_to,
                ablation=args.ablation,
                sweep=grid,
                report_root=None if args.no_report else Path(args.report_dir or home / "reports"),
                workers=args.workers,
                progress=say,
            )
            as_of = warehouse.as_of(conn)
    except (ValueError, LookupError, duckdb.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    pd.set_option("display.width", 200)
    shown = result.metrics[result.metrics["window"] == "all"].set_index("strategy")
    cols = ["start", "end", "cagr", "vol", "sharpe", "max_drawdown", "calmar", "worst_month", "hit_rate", "trades"]
    print(shown[cols].to_string(float_format=lambda x: f"{x:.4f}"))
    replicas = replicas.replica_table(result.metrics)
    cboe = result.metrics[(result.metrics["window"] == "cboe_1990_2015") & result.metrics["start"].notna()]
    span = f"{cboe['start'].min():%Y-%m-%d}..{cboe['end'].max():%Y-%m-%d}" if len(cboe) else "no data in 1990-2015"
    print(f"\nreplicas vs the published Cboe figures (published: 1986-2015; ours: {span}):")
    print(replicas.to_string(index=False, float_format=lambda x: f"{x:.4f}"))
    if result.ablation is not None:
        print("\nablation (full minus the variant; > 0: the rule helped):")
        for verdict in result.ablation["verdict"][1:]:
            print(f"  {verdict}")
    if result.sweep is not None:
        best = result.sweep.sort_values("sharpe", ascending=False).head(5)
        print(f"\nsweep: {len(result.sweep)} points; best by Sharpe:")
        print(best[[*backtest.SWEEP_PARAMETERS, "cagr", "sharpe", "max_drawdown"]].to_string(index=False))
    gaps = max(abs(r["gap"]) for r in result.reconciliation.values())
    print(f"\nrun {result.run_id}: accounting identity holds to ${gaps:.2f}; {time.perf_counter() - t0:.1f}s")
    if result.report is not None:
        print(f"report: {result.report.html}")
    _republish(home, db_path, result.run_id, as_of)
    return 0


def _republish(home: Path, db_path: Path, run_id: str, as_of) -> None:
    """Publish the warehouse again when a snapshot exists, so readers (query, apps) see new backtest.* or
    research.* rows."""
    from vixshield.serve import publish

    if publish.read_manifest(home) is None:
        return
    from vixshield.serve import today

    publish.publish(
        db_path, home, run_id, as_of, METHODOLOGY_VERSION, publish.PUBLISHED_TABLES,
        export_all=True, page=today.render_page,
    )  # fmt: skip
    print(f"published {publish.snapshot_path(home)}")


def cmd_research(args) -> int:
    """Walk-forward research: every comparison out of sample with intervals; research.* tables, the report,
    optionally the README's verdict paragraph; republish."""
    import duckdb
    import pandas as pd

    from vixshield.research import job as research_job
    from vixshield.research import readme
    from vixshield.store import warehouse

    home, settings = _home(args), args.settings
    db_path = settings.warehouse_path
    if not db_path.exists():
        print(f"error: no warehouse at {db_path}: run `vixshield run` first", file=sys.stderr)
        return 2
    if args.readme and readme.START not in (Path(args.readme).read_text() if Path(args.readme).is_file() else ""):
        print(f"error: {args.readme} has no {readme.START} marker for the verdict", file=sys.stderr)
        return 2
    rs = settings.research
    print(
        f"vixshield research: {rs.split} walk-forward on {rs.objective} from {rs.first_oos_year}, "
        f"{rs.bootstrap_reps} bootstrap resamples",
        file=sys.stderr,
    )
    t0 = time.perf_counter()
    try:
        with warehouse.connect(db_path) as conn:
            result = research_job.run_research(
                conn,
                settings,
                report_root=None if args.no_report else Path(args.report_dir or home / "reports"),
                workers=args.workers,
                progress=lambda msg: print(f"  {msg}", file=sys.stderr),
            )
            as_of = warehouse.as_of(conn)
    except (ValueError, LookupError, duckdb.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    frames = result.tables
    pd.set_option("display.width", 250)
    shown = frames["verdict"].set_index("variant")
    cols = ["sharpe", "d_sharpe", "d_sharpe_low", "d_sharpe_high", "cagr", "d_cagr", "max_drawdown", "d_max_drawdown"]
    print(shown[cols].to_string(float_format=lambda x: f"{x:.4f}"))
    for variant, text in shown["verdict"].items():
        print(f"  {variant}: {text}")
    print("\nrule contributions (full minus full without the rule):")
    for rule, text in zip(frames["contributions"]["rule"], frames["contributions"]["verdict"], strict=True):
        print(f"  {rule}: {text}")
    run = frames["runs"].iloc[0]
    print(
        f"\nrun {result.run_id}: {int(run['backtests'])} backtests, {int(run['sessions'])} out-of-sample sessions, "
        f"block {run['block_length']:g}; {time.perf_counter() - t0:.1f}s"
    )
    if result.report is not None:
        print(f"report: {result.report.html}")
    if args.readme:
        path = Path(args.readme)
        path.write_text(readme.rewrite(path.read_text(), readme.paragraph(frames)))
        print(f"rewrote the verdict in {path}")
    _republish(home, db_path, result.run_id, as_of)
    return 0


def cmd_doctor(args) -> int:
    """Check the installation: config, warehouse, snapshot, API key presence, live sources."""
    from pipelines import doctor

    checks = doctor.run_doctor(
        None, _home(args), check_network=not args.offline, timeout=args.timeout, config_file=args.config
    )
    print(doctor.format_report(checks))
    return 1 if any(not c.ok for c in checks) else 0


def cmd_dictionary(args) -> int:
    """Write the data dictionary; with a built warehouse, each column's first valid date too."""
    import duckdb

    from vixshield.store import dictionary

    db_path = args.settings.warehouse_path
    first = None
    if db_path.exists():
        with duckdb.connect(str(db_path), read_only=True) as conn:
            if conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'features'").fetchone()[0]:
                first = dictionary.first_valid_dates(conn)
    text = dictionary.markdown(first)
    if args.output == "-":
        print(text)
    else:
        Path(args.output).write_text(text + "\n")
        print(f"wrote {args.output}" + (f" (first valid dates from {db_path})" if first else ""), file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vixshield", description=__doc__)
    parser.add_argument("--home", help="warehouse folder (default $VIXSHIELD_HOME or ./data)")
    parser.add_argument("--config", help="YAML file overriding the default settings")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the daily job (ingest, validate, build core) in process")
    run.add_argument(
        "--source",
        choices=SOURCE_NAMES,
        default="sample",
        help="sample: data bundled in the arch package; files: --data-dir; live: the publishers",
    )
    run.add_argument("--data-dir", help="folder in the publishers' formats (for --source files)")
    run.add_argument("--as-of", help="YYYY-MM-DD: run as if that session's close were the latest data")
    run.set_defaults(func=cmd_run)

    query = sub.add_parser(
        "query", help="run SQL on the published snapshot (read-only, no file/network access; Ctrl-C stops it)"
    )
    query.add_argument("sql")
    query.add_argument("--format", choices=("table", "csv", "json"), default="table")
    query.add_argument("--max-rows", type=int, default=60)
    query.add_argument(
        "--timeout",
        type=_seconds,
        default=QUERY_TIMEOUT,
        metavar="SECONDS",
        help=f"interrupt the query after this long (default {QUERY_TIMEOUT:g}; 0: no limit)",
    )
    query.set_defaults(func=cmd_query)
    sig = sub.add_parser("signals", help="print the day's plan (regime, iron condor, open positions, hedge layers)")
    sig.add_argument("--date", help="YYYY-MM-DD (default: the latest session)")
    sig.add_argument("--format", choices=("table", "json", "csv"), default="table")
    sig.set_defaults(func=cmd_signals)

    tk = sub.add_parser("tickets", help="print the order tickets of a session (OCC symbols, sides, limits)")
    tk.add_argument("--date", help="YYYY-MM-DD signal session (default: the latest); orders are for the next session")
    tk.add_argument("--format", choices=("json", "csv", "ib"), default="json", help="ib: Interactive Brokers basket")
    tk.set_defaults(func=cmd_tickets)
    sv = sub.add_parser("serve", help="serve the today page and a read-only JSON API over the published snapshot")
    sv.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    sv.add_argument("--port", type=int, default=8321)
    sv.set_defaults(func=cmd_serve)

    bt = sub.add_parser("backtest", help="replay the book over history per strategy; metrics, trades, report")
    bt.add_argument(
        "--strategy",
        action="append",
        help="full, full_same_close, spx, cndr, put, bxm, bxmd, vxth, pput (repeat or comma-separate; default: all)",
    )
    bt.add_argument("--from", dest="date_from", help="YYYY-MM-DD first session (default: the first with data)")
    bt.add_argument("--to", dest="date_to", help="YYYY-MM-DD last session (default: the latest)")
    bt.add_argument("--ablation", action="store_true", help="also run full without each [seed] rule and the gates")
    bt.add_argument(
        "--sweep",
        nargs="*",
        metavar="NAME=V1,V2",
        help="also sweep full over a grid (no values: 5 short deltas x 5 profit targets x 2 hedge budgets)",
    )
    bt.add_argument("--workers", type=int, help="processes for the runs (default: one per core)")
    # also accepted after the subcommand; SUPPRESS keeps `vixshield --config F backtest` working too
    bt.add_argument("--config", default=argparse.SUPPRESS, help="YAML file overriding the default settings")
    bt.add_argument("--report-dir", help="where plan_text.html and the charts go (default: $VIXSHIELD_HOME/reports)")
    bt.add_argument("--no-report", action="store_true", help="skip the charts and the report")
    bt.set_defaults(func=cmd_backtest)

    rs = sub.add_parser(
        "research",
        help="walk-forward research: every comparison against SPX out of sample, with intervals; research.*, report",
    )
    rs.add_argument("--workers", type=int, help="processes for the backtests (default: one per core)")
    rs.add_argument("--config", default=argparse.SUPPRESS, help="YAML file overriding the default settings")
    rs.add_argument("--report-dir", help="where the report goes (default: $VIXSHIELD_HOME/reports)")
    rs.add_argument("--no-report", action="store_true", help="skip the charts and the report")
    rs.add_argument("--readme", metavar="PATH", help="rewrite the verdict paragraph between the markers in PATH")
    rs.set_defaults(func=cmd_research)

    doc = sub.add_parser("doctor", help="check config, warehouse, snapshot, API key presence and live sources")
    doc.add_argument("--offline", action="store_true", help="skip the network reachability checks")
    doc.add_argument("--timeout", type=float, default=3.0, help="seconds per network check")
    doc.set_defaults(func=cmd_doctor)

    dic = sub.add_parser("dictionary", help="write the data dictionary of the derived tables (Markdown)")
    dic.add_argument("--output", default="docs/data_dictionary.md", help="file to write, or - for stdout")
    dic.set_defaults(func=cmd_dictionary)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.func is cmd_run:  # GX's import starts now, before the settings and sources are read
        from vixshield.validate import expectations

        expectations.start_worker()
    try:
        return _main(args)
    finally:
        if args.func is cmd_run:
            expectations.stop_worker()


def _main(args) -> int:
    import yaml

    from vixshield.config import load_settings

    args.settings = None
    if args.func is not cmd_doctor:  # the doctor reports a bad file as its failing `config` check
        try:  # read and validated once; the command uses this value
            args.settings = load_settings(args.config, home=_home(args))
        except (ValueError, yaml.YAMLError) as exc:  # missing, malformed or invalid: an argument error
            print(f"error: {exc}", file=sys.stderr)
            return 2
    try:
        return args.func(args)
    except BrokenPipeError:  # `vixshield signals | head`: the reader left, nothing to report
        sys.stderr.close()
        return 0


def console() -> None:
    """The `vixshield` script: main(), then exit without the interpreter's teardown. Everything is
    written and closed by then; freeing Dagster's, SQLAlchemy's and pandas' modules one by one only
    costs the user ~0.7 s of waiting."""
    rc = main()
    for flush in (logging.shutdown, sys.stdout.flush, sys.stderr.flush):
        with contextlib.suppress(OSError, ValueError):  # the reader left (`| head`) or the stream is closed
            flush()
    os._exit(rc)


if __name__ == "__main__":
    console()
