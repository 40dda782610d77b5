"""`sample`: the real data that ships inside the `arch` package, for a first run with no downloads.

S&P 500 daily bars 1999-2018 (Yahoo), VIX closes 2014-2018, core CPI (FRED CPILFESL) and
Moody's Aaa/Baa yields (FRED AAA/BAA). No VIX term structure, futures or breadth: the
derived layers degrade to what these inputs allow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import pandas as pd

from vixshield.ingest.sources.base import Fetched, FetchWindow, Source
from vixshield.ingest.sources.files import shipped_release_events
from vixshield.store import schemas


def _dated(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.index = pd.to_datetime(frame.index).tz_localize(None) if frame.index.tz else pd.to_datetime(frame.index)
    return frame


class SampleSource(Source):
    name = "sample"

    def _daily_bars(self, window: FetchWindow) -> Fetched:
        return Fetched("daily_bars", schemas.conform(pd.concat([self._spx(), self._vix()]), "daily_bars"))

    def _macro_observations(self, window: FetchWindow) -> Fetched:
        return Fetched("macro_observations", schemas.conform(self._macro(), "macro_observations"))

    def _events(self, window: FetchWindow) -> Fetched:
        return shipped_release_events()

    # no VX futures or breadth in the bundle: those families come back empty
    FETCHERS: ClassVar[dict[str, Callable[[Any, FetchWindow], Fetched]]] = {
        "daily_bars": _daily_bars,
        "macro_observations": _macro_observations,
        "events": _events,
    }

    @staticmethod
    def _spx() -> pd.DataFrame:
        import arch.data.sp500

        bars = _dated(arch.data.sp500.load())
        bars.columns = [c.lower().replace(" ", "_") for c in bars.columns]
        return bars.rename_axis("date").reset_index().assign(symbol="^GSPC", source="sample:yahoo")

    @staticmethod
    def _vix() -> pd.DataFrame:
        import arch.data.vix

        vix = _dated(arch.data.vix.load()).dropna()  # a few sessions have no print
        return pd.DataFrame(
            {"date": vix.index, "close": vix["vix"].to_numpy(), "symbol": "^VIX", "source": "sample:cboe"}
        )

    @staticmethod
    def _macro() -> pd.DataFrame:
        import arch.data.core_cpi
        import arch.data.default

        frames = []
        for module in (arch.data.core_cpi, arch.data.default):
            wide = _dated(module.load())
            for series_id in wide.columns:
                s = wide[series_id].dropna()
                frames.append(
                    pd.DataFrame({"series_id": series_id, "observation_date": s.index, "value": s.to_numpy()})
                )
        return pd.concat(frames, ignore_index=True).assign(source="sample:fred")
