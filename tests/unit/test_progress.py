"""What the terminal says under a blocking check's FAIL line (pipelines/progress.py)."""

from types import SimpleNamespace

import dagster as dg

from pipelines.progress import _explain


def evaluation(details: dict, description: str | None) -> SimpleNamespace:
    """The fields of Dagster's AssetCheckEvaluation that the line reads."""
    return SimpleNamespace(metadata={"details": dg.MetadataValue.json(details)}, description=description)


def test_an_sql_check_shows_its_rule_and_first_offending_row():
    sample = [{"date": "2026-07-10", "spx_move": "-0.6931"}, {"date": "2026-07-13", "spx_move": "0.69"}]
    line = _explain(evaluation({"as_of": "2026-07-13", "sample": sample}, "no such move (raise the limit)"))
    assert line == "no such move (raise the limit); first: date=2026-07-10, spx_move=-0.6931"


def test_an_expectation_suite_shows_the_expectations_that_failed():
    failed = {"expect_column_values_to_be_in_set": {"unexpected": 1}, "expect_compound_columns_to_be_unique": {}}
    line = _explain(evaluation({"rows_validated": 12, "failed": failed}, "Great Expectations: keys."))
    assert line == (
        "Great Expectations: keys; failed: expect_column_values_to_be_in_set, expect_compound_columns_to_be_unique"
    )


def test_nothing_to_add_without_a_description_or_offenders():
    assert _explain(evaluation({"sample": []}, None)) == ""
    assert _explain(SimpleNamespace(metadata={}, description=None)) == ""
