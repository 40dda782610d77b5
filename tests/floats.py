"""How the suite compares computed floats, and why with these tolerances.

Two computations of one value from the same inputs (a feature computed on data cut at t against the
full run, a fit on another machine) can differ in their last bits across numpy/scipy/pandas builds:
SIMD reductions and BLAS kernels may add in another order. That noise is ~1e-16 relative per
operation and stays below ~1e-12 after the few thousand operations a feature or a GARCH recursion
takes. What the tests guard against is far larger: one leaked later session moves a 21-session
statistic by about 1/21 of a daily move (1e-4 relative or more), and a wrong rule by more still.
REL = 1e-9 sits between the two with a margin of about 1e3 either way. ABS covers values that are
zero up to cancellation (a MACD histogram, a divergence) of inputs of order 1e4 (SPX points), whose
last-bit noise is about 1e4 * 1e-16 * 1e2 = 1e-10.

Exact comparisons stay where the bits are the specification: a cache or memo hands back exactly
what it stored, a copy (core from raw, a published Parquet file) holds exactly what was written, and
a hand calculation that is exact in binary (small integers, halves).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REL = 1e-9
ABS = 1e-10


def assert_frame_close(got: pd.DataFrame, want: pd.DataFrame, **kwargs) -> None:
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=REL, atol=ABS, **kwargs)


def assert_series_close(got: pd.Series, want: pd.Series, **kwargs) -> None:
    pd.testing.assert_series_equal(got, want, check_exact=False, rtol=REL, atol=ABS, **kwargs)


def assert_array_close(got, want, **kwargs) -> None:
    np.testing.assert_allclose(
        np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=REL, atol=ABS, **kwargs
    )
