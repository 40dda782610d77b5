"""`vixshield serve` binds this machine only unless told otherwise, and needs a published snapshot."""

from pipelines import cli
from vixshield.serve import api


def test_serve_binds_127_0_0_1_by_default():
    args = cli.build_parser().parse_args(["serve"])
    assert (args.host, args.port) == (api.DEFAULT_HOST, api.DEFAULT_PORT) == ("127.0.0.1", 8321)


def test_serve_without_a_snapshot_says_what_to_run(tmp_path, capsys):
    assert cli.main(["--home", str(tmp_path / "empty"), "serve"]) == 2
    assert "no published snapshot" in capsys.readouterr().err
