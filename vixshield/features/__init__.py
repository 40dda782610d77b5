"""Stage 3, features: realized and GARCH vol, the VIX term structure, indicators, breadth, macro
and event distances (features.daily), and the regime (features.regime). Causal only."""
