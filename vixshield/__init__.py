"""VixShield: a point-in-time signal warehouse for SPX iron condors and a layered VIX hedge."""

__version__ = "0.1.0"
METHODOLOGY_VERSION = "2026.12-1"  # 2026.12: the rules of README "Methodology changes" (#14)
