"""A Dagster logger that prints one line per finished step and per failed or warning check,
for `vixshield run` in a terminal (the Dagster UI keeps the full event log)."""

import logging
import sys
import time

import dagster as dg

from vixshield.store.warehouse import STORAGE_FULL


class ProgressHandler(logging.Handler):
    def __init__(self, stream=None) -> None:
        super().__init__(logging.DEBUG)
        self.stream = stream or sys.stderr
        self.started: dict[str, float] = {}

    def _say(self, line: str) -> None:
        print(line, file=self.stream, flush=True)

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", {})
        event = meta.get("dagster_event")
        if event is None:
            if record.levelno >= logging.ERROR and "Not executing" in str(meta.get("orig_message", "")):
                self._say(f"  skip  {meta.get('step_key') or '':<45} (an upstream step or blocking check failed)")
            return
        kind, step = event.event_type_value, event.step_key or ""
        if kind == "STEP_START":
            self.started[step] = time.perf_counter()
        elif kind == "STEP_SUCCESS":
            took = time.perf_counter() - self.started.get(step, time.perf_counter())
            self._say(f"  ok    {step:<45} {took:6.2f}s")
        elif kind == "STEP_FAILURE":
            err = event.event_specific_data.error
            # the first error past Dagster's wrappers is what the step raised: ours name the file,
            # source or path and what to do, and keep the low-level error they wrap as their cause
            while err is not None and err.cls_name.startswith("Dagster") and (err.cause or err.context):
                err = err.cause or err.context
            message = err.message.strip().splitlines()[-1] if err else "failed"
            head, _, rest = message.partition(": ")
            if err and head.endswith(err.cls_name) and rest:  # "pkg.mod.SourceError: text" -> "text"
                message = rest if err.cls_name in ("SourceError", "ConfigError") else f"{err.cls_name}: {rest}"
            if any(words in message for words in STORAGE_FULL):
                message += " (the disk is full or failing: free some space, then rerun)"
            self._say(f"  FAIL  {step:<45} {message}")
        elif kind == "ASSET_CHECK_EVALUATION":
            ev = event.event_specific_data
            if not ev.passed:
                label = "FAIL " if ev.severity == dg.AssetCheckSeverity.ERROR else "warn "
                target = f"{ev.asset_key.to_user_string()}:{ev.check_name}"
                failures = ev.metadata.get("failures")
                count = f"{failures.value} offending rows" if failures is not None else ""
                self._say(f"  {label} {target:<45} {count}")
                if ev.severity == dg.AssetCheckSeverity.ERROR and (why := _explain(ev)):
                    self._say(f"        {why}")


def _explain(ev) -> str:
    """A blocking check's rule and its first offending row (an SQL check) or the expectations that
    failed (Great Expectations): what the terminal reader looks at first."""
    details = ev.metadata.get("details")
    details = (details.value or {}) if details is not None else {}
    sample, failed = details.get("sample"), details.get("failed")
    if sample:
        what = "first: " + ", ".join(f"{k}={v}" for k, v in sample[0].items())
    else:
        what = ("failed: " + ", ".join(failed)) if failed else ""
    return "; ".join(part for part in ((ev.description or "").rstrip("."), what) if part)


@dg.logger(description="One line per step, for the CLI.")
def progress_logger(_init_context) -> logging.Logger:
    logger = logging.getLogger("vixshield.progress")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(ProgressHandler())
    return logger
