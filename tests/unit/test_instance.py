"""The one Dagster instance lives under the VixShield home, whatever DAGSTER_HOME says."""

from pathlib import Path

from pipelines import instance


def test_the_instance_folder_is_derived_from_the_home_and_keeps_a_users_dagster_yaml(tmp_path, monkeypatch):
    monkeypatch.setenv("VIXSHIELD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "elsewhere"))
    path = instance.dagster_home()
    assert path == (tmp_path / "home" / "dagster").resolve() and path.is_absolute()
    assert (path / "dagster.yaml").read_text() == instance.DAGSTER_YAML
    (path / "dagster.yaml").write_text("telemetry:\n  enabled: false\nrun_retries:\n  enabled: true\n")
    assert instance.dagster_home(tmp_path / "home") == path
    assert "run_retries" in (path / "dagster.yaml").read_text()  # never overwritten
    assert not (tmp_path / "elsewhere").exists()


def test_the_default_home_is_data_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("VIXSHIELD_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert instance.dagster_home() == tmp_path.resolve() / "data" / "dagster"


def test_runs_recorded_in_the_instance_are_read_back(tmp_path: Path):
    with instance.instance_for(tmp_path) as inst:
        assert inst.get_runs() == []
        assert Path(inst.root_directory) == (tmp_path / "dagster").resolve()
