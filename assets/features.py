"""features.daily and features.regime: METHODOLOGY §2 features and the §3 regime per session."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.core import CORE_TABLES
from assets.metadata import table_metadata
from assets.resources import VixShieldResource
from vixshield import METHODOLOGY_VERSION
from vixshield.features import daily as features
from vixshield.ingest import cache
from vixshield.store import contract

CORE_KEYS = [dg.AssetKey(["core", name]) for name in CORE_TABLES]


@dg.asset(
    key=["features", "daily"],
    code_version=METHODOLOGY_VERSION,
    group_name="features",
    kinds={"duckdb", "python"},
    deps=CORE_KEYS,
    description=contract.TABLES["features.daily"].comment.removesuffix(".") + " (see docs/data_dictionary.md).",
)
def features_daily(duckdb: DuckDBResource, vixshield: VixShieldResource) -> dg.MaterializeResult:
    memo_path = cache.cache_dir(duckdb.database) / "garch_fits.pkl"
    memo = cache.read_pickle(memo_path) or {}
    with duckdb.get_connection() as conn:
        frame = features.compute_features(conn, vixshield.settings(), garch_memo=memo)
        features.write(conn, "features.daily", frame)
        cache.write_pickle(memo_path, memo)  # the fits this run used: the next run refits only a new month
        return dg.MaterializeResult(metadata=table_metadata(conn, "features.daily", "date"))


@dg.asset(
    key=["features", "regime"],
    code_version=METHODOLOGY_VERSION,
    group_name="features",
    kinds={"duckdb", "python"},
    deps=[dg.AssetKey(["features", "daily"])],
    description=contract.TABLES["features.regime"].comment,
)
def features_regime(duckdb: DuckDBResource, vixshield: VixShieldResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        daily = conn.execute("SELECT * FROM features.daily ORDER BY date").df()
        frame = features.compute_regime(daily, vixshield.settings())
        features.write(conn, "features.regime", frame)
        counts = conn.execute("SELECT regime, count(*) FROM features.regime GROUP BY 1 ORDER BY 2 DESC").fetchall()
        extra = {"sessions_by_regime": dg.MetadataValue.json(dict(counts))}
        return dg.MaterializeResult(metadata=table_metadata(conn, "features.regime", "date", extra))
