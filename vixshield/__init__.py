"""VixShield: a point-in-time signal warehouse for SPX iron condors and a layered VIX hedge."""

__version__ = "0.1.0"
METHODOLOGY_VERSION = "2026.11-1"
