"""Stage 4, signals: option pricing, the condor programs, the hedge layers (a spec per layer), the
option writer, costs, and the book that runs them into the signals.* tables."""
