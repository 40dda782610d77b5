"""VixShield: a point-in-time signal warehouse for SPX iron condors and a layered VIX hedge."""

__version__ = "0.1.0"
METHODOLOGY_VERSION = "2026.12-1"  # 2026.12: the rules of README "Methodology changes" (#14)

from vixshield import native as _native  # noqa: E402  (first: the engine's modules are not imported yet)

ENGINE = _native.install()  # how the engine runs: "compiled (mypyc)", or as source and why
