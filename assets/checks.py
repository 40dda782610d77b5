"""Asset checks. Raw tables: Great Expectations suites. Core tables: SQL checks from sql/checks/.
Blocking checks (severity ERROR) stop every downstream asset; every result lands in
meta.check_results."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.resources import VixShieldResource
from vixshield.store import warehouse
from vixshield.store.schemas import FAMILIES
from vixshield.validate import checks as rules


def _record(
    conn, run_id: str, asset: str, name: str, passed: bool, blocking: bool, failures, details, description=None
) -> dg.AssetCheckResult:
    severity = "ERROR" if blocking else "WARN"
    warehouse.record_check(conn, run_id, asset, name, passed, severity, failures, details)
    return dg.AssetCheckResult(
        asset_key=asset.split("."),
        check_name=name,
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        metadata={"failures": dg.MetadataValue.int(int(failures or 0)), "details": dg.MetadataValue.json(details)},
        description=description,
    )


def make_expectation_checks(family: str) -> dg.AssetChecksDefinition:
    asset = f"raw.{family}"
    suites = {  # name -> (blocking, description)
        "expectations_blocking": (True, "Great Expectations: schema, non-null and unique keys."),
        "expectations_warn": (
            False,
            "Great Expectations: value ranges and OHLC consistency (defects get quarantined).",
        ),
    }
    specs = [
        dg.AssetCheckSpec(name, asset=["raw", family], blocking=blocking, description=text)
        for name, (blocking, text) in suites.items()
    ]

    @dg.multi_asset_check(specs=specs, name=f"expectations_{family}")
    def _checks(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource, vixshield: VixShieldResource):
        run_id = context.run.run_id
        with duckdb.get_connection() as conn:
            scope = "" if vixshield.validate_all else "WHERE run_id = ?"
            frame = conn.execute(f"SELECT * FROM {asset} {scope}", [] if vixshield.validate_all else [run_id]).df()
            outcomes = []
            if len(frame):
                from vixshield.validate.expectations import validate_table  # imports great_expectations (~3 s)

                outcomes = validate_table(family, frame)
            results = []
            with warehouse.transaction(conn):  # one commit for the step's results
                for name, (blocking, description) in suites.items():
                    group = [o for o in outcomes if o.blocking == blocking]
                    failed = {o.name: {"unexpected": o.unexpected_count, **o.details} for o in group if not o.passed}
                    results.append(
                        _record(
                            conn,
                            context.run.run_id,
                            asset,
                            name,
                            not failed,
                            blocking,
                            sum((o.unexpected_count or 1) for o in group if not o.passed),
                            {"rows_validated": len(frame), "failed": failed, "evaluated": [o.name for o in group]},
                            description,
                        )
                    )
        yield from results

    return _checks


def make_sql_checks(step: str, assets: list[str]) -> dg.AssetChecksDefinition:
    """One step runs the SQL checks of `assets` (the core tables are built by one step: their checks
    share one too, which spares Dagster's per-step bookkeeping without changing what blocks what)."""
    checks = [c for asset in assets for c in rules.CHECKS_BY_ASSET[asset]]
    specs = [
        dg.AssetCheckSpec(c.name, asset=c.asset.split("."), blocking=c.blocking, description=c.description)
        for c in checks
    ]

    @dg.multi_asset_check(specs=specs, name=f"sql_checks_{step.replace('.', '_')}")
    def _checks(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource, vixshield: VixShieldResource):
        with duckdb.get_connection() as conn:
            as_of = warehouse.as_of(conn)
            rules.set_variables(conn, as_of, vixshield.settings().validation)
            outs = [(check, rules.run_check(conn, check)) for check in checks]
            with warehouse.transaction(conn):  # one commit for the step's results
                results = [
                    _record(
                        conn,
                        context.run.run_id,
                        check.asset,
                        check.name,
                        out.passed,
                        check.blocking,
                        out.failures,
                        {"as_of": str(as_of), "sample": out.sample},
                        check.description,
                    )
                    for check, out in outs
                ]
        yield from results

    return _checks


def _step(asset: str) -> str:
    return "core" if asset.startswith("core.") else asset


expectation_checks = [make_expectation_checks(f) for f in FAMILIES]
_SQL_STEPS: dict[str, list[str]] = {}
for _asset in rules.CHECKS_BY_ASSET:
    _SQL_STEPS.setdefault(_step(_asset), []).append(_asset)
sql_checks = [make_sql_checks(step, assets) for step, assets in _SQL_STEPS.items()]
