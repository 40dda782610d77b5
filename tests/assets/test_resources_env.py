"""The code location's resources read VIXSHIELD_SOURCE / _DATA_DIR / _CONFIG when a run launches."""

import dagster as dg

from assets.resources import VixShieldResource, default_resources


def test_env_vars_are_resolved_at_launch_not_at_import(tmp_path, monkeypatch):
    monkeypatch.setenv("VIXSHIELD_HOME", str(tmp_path))
    monkeypatch.setenv("VIXSHIELD_SOURCE", "sample")
    monkeypatch.setenv("VIXSHIELD_DATA_DIR", "/first")
    monkeypatch.delenv("VIXSHIELD_CONFIG", raising=False)
    resources = default_resources()
    assert isinstance(resources["vixshield"].source, dg.EnvVar)  # shown by name in the UI
    assert resources["vixshield"].config_file is None  # unset: the default
    assert resources["duckdb"].database == str(tmp_path / "warehouse.duckdb")
    seen = {}

    @dg.asset
    def probe(vixshield: VixShieldResource) -> None:
        seen.update(source=vixshield.source, data_dir=vixshield.data_dir)

    monkeypatch.setenv("VIXSHIELD_SOURCE", "files")  # changed after the definitions were built
    monkeypatch.setenv("VIXSHIELD_DATA_DIR", "/second")
    result = dg.materialize([probe], resources={"vixshield": resources["vixshield"]})
    assert result.success and seen == {"source": "files", "data_dir": "/second"}
