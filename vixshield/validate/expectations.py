"""Great Expectations suites for the raw tables: what a fetched row must look like to be usable.

One suite per raw family, built in code (no GX project on disk) and validated against an in-memory
frame read back from raw.<family>. Blocking expectations guard what downstream SQL relies on
(the table's columns, non-null and unique keys, point-in-time availability, known event kinds);
non-blocking ones flag values that are suspicious but not fatal (an implausible close, high < low).

GX is imported lazily (2-4 s) and its context, datasource and suites are built once per process.
`start_worker()` moves that process off the critical path: a run calls it first thing, a second
process imports GX on the other core while the run ingests, and `validate_table` then runs there.
This module imports neither pandas nor GX at its top, so that a run can start the worker before
its own imports.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import subprocess
import sys
import threading
import warnings
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe
from typing import TYPE_CHECKING, Any

from vixshield.store import contract

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.expectations.expectation import Expectation

AUDIT_COLUMNS = tuple(c.name for c in contract.AUDIT)  # added by the warehouse on write
PARTIAL_UNEXPECTED = 5  # values kept in details: enough to find the rows, small enough to store
_RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": PARTIAL_UNEXPECTED}


@dataclass(frozen=True)
class ExpectationOutcome:
    name: str  # short stable name, e.g. "keys_unique", "close_in_range[^VIX]"
    passed: bool
    blocking: bool  # True: the data is unusable; False: a warning
    unexpected_count: int | None
    details: dict  # small and JSON-serializable


@dataclass(frozen=True)
class _Runtime:
    batch_definition: BatchDefinition
    suites: dict[str, ExpectationSuite]


log = logging.getLogger(__name__)
_RUNTIME: _Runtime | None = None
_LOCK = threading.Lock()  # one shared GX context: validations must not interleave
_WORKER: _Worker | None = None


def table_columns(family: str) -> list[str]:
    """The columns of raw.<family>: the family's canonical columns plus the audit columns."""
    return contract.FAMILY_BY_NAME[family].table.names


def _tagged(expectation: Expectation, name: str, blocking: bool) -> Expectation:
    """Name and severity ride in `meta`: GX does not return results in suite order."""
    expectation.meta = {"name": name, "blocking": blocking}
    return expectation


def _expectations(family: str) -> list[Expectation]:
    """The shape every raw table must have, then the family's own rules from the contract."""
    import great_expectations.expectations as gxe

    keys = contract.FAMILY_BY_NAME[family].key
    out = [
        _tagged(
            gxe.ExpectTableColumnsToMatchSet(column_set=table_columns(family), exact_match=True),
            "columns_match",
            True,
        ),
        *(_tagged(gxe.ExpectColumnValuesToNotBeNull(column=k), f"key_not_null[{k}]", True) for k in keys),
        _tagged(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(keys)), "keys_unique", True),
        _tagged(gxe.ExpectColumnValuesToNotBeNull(column="source"), "source_not_null", True),
    ]
    return out + [
        _tagged(_expectation(rule), rule.name, rule.blocking) for rule in contract.FAMILY_BY_NAME[family].rules
    ]


def _expectation(rule: contract.Rule) -> Expectation:
    """One contract rule as a GX expectation."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    if rule.kind == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(column=rule.column)
    if rule.kind == "between":
        where = {"row_condition": Column("symbol") == rule.symbol} if rule.symbol else {}
        return gxe.ExpectColumnValuesToBeBetween(
            column=rule.column, min_value=rule.min, max_value=rule.max, strict_min=rule.strict_min, **where
        )
    if rule.kind == "a_ge_b":  # rows where either side is NULL are skipped: a missing value is no ordering defect
        return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=rule.column, column_B=rule.other, or_equal=True, ignore_row_if="either_value_is_missing"
        )
    if rule.kind == "in_set":
        return gxe.ExpectColumnValuesToBeInSet(column=rule.column, value_set=list(rule.values))
    raise ValueError(f"rule {rule.name}: unknown kind {rule.kind!r}")


def _runtime() -> _Runtime:
    """Build the GX context, the dataframe batch definition and every family's suite, once."""
    global _RUNTIME
    if _RUNTIME is not None:
        return _RUNTIME
    # GX logs INFO chatter and deprecation warnings at import time: quiet them before importing.
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
    # This module pins its own logger to INFO (it announces the ephemeral docs-site temp dir).
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("vixshield_raw").add_dataframe_asset("raw_frame")
    batch_definition = asset.add_batch_definition_whole_dataframe("whole_frame")
    suites = {}
    for family in contract.FAMILY_BY_NAME:
        suite = gx.ExpectationSuite(name=f"raw.{family}", expectations=_expectations(family))
        suites[family] = suite
    _RUNTIME = _Runtime(batch_definition, suites)
    return _RUNTIME


def _json_safe(value: Any) -> Any:
    """Timestamps, numpy scalars, NaN/NaT and tuples as plain JSON values."""
    import pandas as pd

    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp | dt.date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _outcome(result: Any) -> ExpectationOutcome:
    config = result.expectation_config
    meta = config.meta or {}
    details: dict[str, Any] = {"expectation": config.type}
    res = result.result or {}
    unexpected: int | None = res.get("unexpected_count")
    exception = result.exception_info or {}
    # A metric that could not be computed (e.g. its column is missing) comes back as a dict keyed by
    # metric id; a whole-expectation failure as a flat dict.
    errors = [exception] if "raised_exception" in exception else list(exception.values())
    raised = [e for e in errors if isinstance(e, dict) and e.get("raised_exception")]
    messages = [e.get("exception_message") for e in raised]
    if messages:
        details["error"] = str(messages[0])[:300]
        unexpected = None
    elif config.type == "expect_table_columns_to_match_set":
        mismatched = (res.get("details") or {}).get("mismatched") or {}
        details.update({k: sorted(mismatched.get(k) or []) for k in ("missing", "unexpected")})
        unexpected = len(details["missing"]) + len(details["unexpected"])
    elif res.get("partial_unexpected_list"):
        details["partial_unexpected"] = _json_safe(res["partial_unexpected_list"][:PARTIAL_UNEXPECTED])
    return ExpectationOutcome(
        name=str(meta["name"]),
        passed=bool(result.success) and not messages,
        blocking=bool(meta["blocking"]),
        unexpected_count=None if unexpected is None else int(unexpected),
        details=details,
    )


class _Worker:
    """A child interpreter that imports GX and builds the suites as soon as it starts, then validates
    frames sent over a pipe. A plain `python -c` rather than a multiprocessing process: spawn would
    first re-import the caller's main module (the whole CLI, ~1 s of CPU on the core GX needs) and
    start a resource-tracker process; fork would copy threads and open files."""

    def __init__(self) -> None:
        self.conn, child = Pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", f"from {__name__} import _serve_fd; _serve_fd({child.fileno()})"],
                pass_fds=[child.fileno()],
                stdin=subprocess.DEVNULL,
            )
        except BaseException:
            self.conn.close()
            raise
        finally:
            child.close()
        self.lock = threading.Lock()  # one request on the pipe at a time

    def validate(self, family: str, frame: pd.DataFrame) -> list[ExpectationOutcome]:
        with self.lock:
            self.conn.send((family, frame))
            ok, value = self.conn.recv()  # EOFError / OSError if the process died
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        # killed, not asked to exit: it holds nothing to save, and GX's interpreter teardown takes ~0.7 s
        self.process.kill()
        self.process.wait()
        self.conn.close()


def _serve_fd(fd: int) -> None:
    """The worker's entry point: serve validations on the pipe end `fd` until the parent goes away."""
    _serve(Connection(fd))


def _serve(conn: Connection) -> None:
    import tqdm  # GX's progress bars: their default lock is a named semaphore, which a killed process leaks

    tqdm.tqdm.set_lock(threading.RLock())
    _runtime()
    while True:
        try:
            family, frame = conn.recv()
        except EOFError:  # the parent went away
            return
        try:
            conn.send((True, _validate_here(family, frame)))
        except Exception as exc:  # re-raised in the parent
            conn.send((False, exc))


def start_worker() -> None:
    """Start the GX worker process now, so that GX's 2-4 s import runs on the other core while the
    caller goes on; `validate_table` then validates there. Idempotent; `stop_worker()` ends it."""
    global _WORKER
    if _WORKER is None:
        try:
            _WORKER = _Worker()
        except OSError as exc:  # no process could be started: validate in this one, only slower
            log.warning("Great Expectations worker not started (%s); validating in this process", exc)


def stop_worker() -> None:
    global _WORKER
    if _WORKER is not None:
        _WORKER.stop()
        _WORKER = None


def validate_table(family: str, frame: pd.DataFrame) -> list[ExpectationOutcome]:
    """Run raw.<family>'s suite on `frame`; outcomes come back in suite order.

    An expectation whose column is missing fails with `details["error"]` (and `columns_match`
    fails, blocking). Duplicate keys count every row of a duplicated key as unexpected.
    Runs in the worker process when one was started (and here if that process has died).
    """
    global _WORKER
    if family not in contract.FAMILY_BY_NAME:
        raise ValueError(f"unknown raw family {family!r}")
    if _WORKER is not None:
        try:
            return _WORKER.validate(family, frame)
        except (EOFError, OSError):
            _WORKER = None  # the worker died (killed, out of memory): validate in this process
    return _validate_here(family, frame)


def _validate_here(family: str, frame: pd.DataFrame) -> list[ExpectationOutcome]:
    with _LOCK:
        runtime = _runtime()
        suite = runtime.suites[family]
        batch = runtime.batch_definition.get_batch(batch_parameters={"dataframe": frame})
        validation = batch.validate(suite, result_format=_RESULT_FORMAT)
    by_name = {o.name: o for o in map(_outcome, validation.results)}
    return [by_name[str(e.meta["name"])] for e in suite.expectations]
