"""The run records itself: its meta.runs row is opened when the run's resources are set up and closed
when they are torn down, which Dagster does after a failed step too. The resource is nested in the
warehouse resource every asset and check requires, so every run of these assets writes its row, with
no daemon and whoever launched it (`vixshield run`, the schedule, the UI); a run-status sensor would
miss CLI runs, a final asset would not run after a failure, and hooks fire per step, not per run.

At the end it also sends the run's alerts (failure, blocked publish, fired signals)."""

import contextlib
import datetime as dt
import json
from dataclasses import dataclass, field

import dagster as dg
import duckdb
from dagster import DagsterEventType
from pydantic import PrivateAttr

from assets.resources import VixShieldResource, WarehouseResource
from vixshield import METHODOLOGY_VERSION
from vixshield.serve import alerts
from vixshield.store import warehouse

RECORDED_SCHEMAS = ("raw", "meta", "core", "features", "signals")
NOT_RECORDED_JOBS = ("backtest",)  # the backtest job records itself in backtest.runs
BOOKKEEPING = ("meta.runs", "meta.check_results")  # grow every run: not data the run changed
RAW_FIELDS = ("inserted", "revised", "unchanged", "withdrawn", "rejected_to_quarantine")
ACTIVE = (dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass
class RunOutcome:
    """What a finished run did, read from its events and meta.check_results."""

    failures: list[tuple[str, str]] = field(default_factory=list)  # (step, error) of steps that raised
    blocked: list[tuple[str, str, str]] = field(default_factory=list)  # (asset, check, found) blocking checks failed
    warned: list[str] = field(default_factory=list)  # asset.check of non-blocking checks that failed
    passed: int = 0
    raw: dict[str, dict] = field(default_factory=dict)  # raw table -> its load counts
    book: str | None = None  # resumed or replayed, and why
    published: bool = False

    @property
    def success(self) -> bool:
        return not self.failures and not self.blocked


def read_outcome(instance: dg.DagsterInstance, conn: duckdb.DuckDBPyConnection, run_id: str) -> RunOutcome:
    out = RunOutcome()
    kinds = {DagsterEventType.STEP_FAILURE, DagsterEventType.ASSET_MATERIALIZATION}
    for entry in instance.all_logs(run_id, of_type=kinds):
        event = entry.dagster_event
        if event.event_type == DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            if error is not None and error.cls_name == "DagsterAssetCheckFailedError":
                continue  # a blocking check: reported from meta.check_results with what it found
            out.failures.append((event.step_key or "?", _reason(error)))
            continue
        materialization = event.event_specific_data.materialization
        key = ".".join(materialization.asset_key.path)
        meta = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
        if key.startswith("raw."):
            out.raw[key] = {k: int(meta[k]) for k in RAW_FIELDS if k in meta}
        elif key.startswith("signals.") and "book" in meta:
            out.book = str(meta["book"])
        elif key == "meta.published":
            out.published = True
    rows = conn.execute(
        "SELECT asset, check_name, passed, severity, details FROM meta.check_results WHERE run_id = ? "
        "ORDER BY asset, check_name",
        [run_id],
    ).fetchall()
    for asset, check, passed, severity, details in rows:
        if passed:
            out.passed += 1
        elif severity == "ERROR":
            out.blocked.append((asset, check, _found(details)))
        else:
            out.warned.append(f"{asset}.{check}")
    return out


def _reason(error) -> str:
    """The error a user can act on: the first in the chain that is not Dagster's own wrapper."""
    chain = []
    while error is not None and len(chain) < 10:
        chain.append(error)
        error = error.cause or error.context
    if not chain:
        return "unknown error"
    mine = next((e for e in chain if not e.cls_name or not e.cls_name.startswith("Dagster")), chain[0])
    text = mine.message.strip()
    return text if not mine.cls_name or text.startswith(mine.cls_name) else f"{mine.cls_name}: {text}"


def _found(details: str | None) -> str:
    """What a failed check found, in a line or two (its failed expectations or sample rows)."""
    try:
        data = json.loads(details or "{}")
    except ValueError:
        return str(details)[:200]
    found = data.get("failed") or data.get("sample") or data
    return json.dumps(found, default=str)[:200]


def changes(before: dict[str, int], after: dict[str, int], raw: dict[str, dict]) -> dict[str, dict]:
    """table -> what the run changed: raw loads' counts, and rows added (or removed) elsewhere."""
    out = {table: dict(counts) for table, counts in raw.items() if any(counts.values())}
    for table, n in after.items():
        delta = n - before.get(table, 0)
        if delta and table not in BOOKKEEPING:
            out.setdefault(table, {})["rows_added"] = delta
    return out


def message(status: str, as_of: object, out: RunOutcome, delta: dict[str, dict], delivery: str | None) -> str:
    """One readable line: what ended how, rows added, the book, the checks, the alerts."""
    parts = [f"{status} as of {as_of}"]
    if out.failures:
        step, reason = out.failures[0]
        parts.append(f"step {step} failed: {alerts.first_lines(reason, 1)}")
    if out.blocked:
        parts.append("blocked by " + ", ".join(f"{a}.{c}" for a, c, _ in out.blocked))
    added = [f"{t} {c['rows_added']:+,}" for t, c in delta.items() if c.get("rows_added")]
    parts.append("rows " + (", ".join(added) if added else "unchanged"))
    if out.book:
        parts.append(f"book {out.book}")
    warned = f" ({', '.join(out.warned)})" if out.warned else ""
    parts.append(f"checks {out.passed} passed, {len(out.warned)} warned{warned}, {len(out.blocked)} failed")
    if delivery:
        parts.append(f"alerts {delivery}")
    return "; ".join(parts)


class RunLog(dg.ConfigurableResource):
    """Brackets a run with its meta.runs row (see the module doc) and sends its alerts."""

    database: str = ""  # empty: the run's settings say (see RecordedWarehouse)
    vixshield: VixShieldResource
    _recording: bool = PrivateAttr(default=False)

    def warehouse(self) -> str:
        return self.database or str(self.vixshield.settings().warehouse_path)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run = context.run
        self._recording = run is not None and run.job_name not in NOT_RECORDED_JOBS
        if not self._recording:
            return
        cfg = self.vixshield
        with warehouse.connect(self.warehouse()) as conn:
            if not conn.execute(  # a new warehouse (a first UI run); the CLI and the raw steps migrate anyway
                "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'meta' AND table_name = 'runs'"
            ).fetchone()[0]:
                warehouse.init_schema(conn)
            _close_finished(conn, context.instance)
            conn.execute(
                "INSERT INTO meta.runs (run_id, started_at, status, source, as_of, config_hash, methodology_version) "
                "VALUES (?, ?, 'running', ?, ?, ?, ?)",
                [run.run_id, _now(), cfg.source, cfg.as_of, cfg.settings().digest(), METHODOLOGY_VERSION],
            )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if not self._recording:
            return
        run_id = context.run.run_id
        settings = self.vixshield.settings()
        with warehouse.connect(self.warehouse()) as conn:
            out = read_outcome(context.instance, conn, run_id)
            after = warehouse.row_counts(conn, RECORDED_SCHEMAS)
            before = _previous_counts(conn, run_id)
            as_of = warehouse.as_of(conn)
            status = "success" if out.success else "failure"
            delivery = self._alert(context, conn, run_id, as_of, out, settings)
            delta = changes(before, after, out.raw)
            conn.execute(
                "UPDATE meta.runs SET finished_at = ?, status = ?, as_of = ?, row_counts = ?, changes = ?, message = ? "
                "WHERE run_id = ?",
                [
                    _now(),
                    status,
                    as_of,
                    json.dumps(after),
                    json.dumps(delta),
                    message(status, as_of, out, delta, delivery),
                    run_id,
                ],
            )

    def _alert(self, context, conn, run_id: str, as_of, out: RunOutcome, settings) -> str | None:
        """The run's alerts, sent; what happened to them ('2 sent', or which target failed), or None."""
        urls = alerts.target_urls(settings.alerts.urls)
        if not urls:
            return None
        found: list[alerts.Alert] = []
        if out.failures:
            found.append(alerts.run_failed(run_id, as_of, out.failures))
        if out.blocked:
            found.append(alerts.publish_blocked(run_id, as_of, out.blocked))
        if out.success and out.published and settings.alerts.signals:
            from vixshield.strategy import signals

            with contextlib.suppress(LookupError, duckdb.Error):  # no plan (no signal tables in this run)
                if fired := alerts.signal_fired(signals.plan_for(conn)):
                    found.append(fired)
        if not found:
            return None
        delivery = alerts.send(found, urls)
        if delivery.failed:
            context.log.warning(f"alerts: {delivery.summary()}")
        return delivery.summary()


def _previous_counts(conn: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, int]:
    """Row counts after the latest earlier run that recorded them (empty for a new warehouse)."""
    row = conn.execute(
        "SELECT row_counts FROM meta.runs WHERE run_id <> ? AND row_counts IS NOT NULL "
        "ORDER BY started_at DESC LIMIT 1",
        [run_id],
    ).fetchone()
    return json.loads(row[0]) if row else {}


def _close_finished(conn: duckdb.DuckDBPyConnection, instance: dg.DagsterInstance) -> None:
    """Rows left 'running' whose Dagster run is over (or unknown to this instance) ended without
    recording it: a killed process. Runs still active (another UI run) are left alone."""
    for (run_id,) in conn.execute("SELECT run_id FROM meta.runs WHERE status = 'running'").fetchall():
        run = instance.get_run_by_id(run_id)
        if run is None or run.status not in ACTIVE:
            conn.execute(
                "UPDATE meta.runs SET status = 'killed', finished_at = ?, "
                "message = 'the process ended before the run did' WHERE run_id = ?",
                [_now(), run_id],
            )


class RecordedWarehouse(WarehouseResource):
    """The warehouse resource of the daily assets, carrying the run's RunLog: every asset and check
    requires `duckdb`, so any run of them sets the log up once and tears it down at its end.

    An empty `database` (the code location's, for the UI and the schedule) is the warehouse of the
    run's settings, `$VIXSHIELD_HOME/warehouse.duckdb` unless the settings file says otherwise, read
    when the run launches: the definitions are imported once, and the home may change after."""

    database: str = ""
    run_log: RunLog

    def create_resource(self, context: dg.InitResourceContext) -> "RecordedWarehouse":
        return self if self.database else self.model_copy(update={"database": self.run_log.warehouse()})
