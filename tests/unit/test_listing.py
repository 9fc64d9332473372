from pathlib import Path

from harness.scenario.listing import list_drills

ROOT = Path(__file__).resolve().parents[2]


def test_list_shows_faults_runbooks_and_invalid_files(tmp_path: Path) -> None:
    text = (ROOT / "scenarios" / "replica-kill.yaml").read_text()
    text = text.replace("../environments/", f"{ROOT}/environments/").replace(
        "../runbooks/", f"{ROOT}/runbooks/"
    )
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.yaml").write_text("name: b\nload: 3\n")
    listing = list_drills(tmp_path)
    assert "3s kill replica; 7s restart last-killed" in listing
    assert "Replication broken" in listing
    assert (
        "INVALID" in listing and f"{tmp_path / 'b.yaml'}:1: environment: required field is missing" in listing
    )
    assert list_drills(tmp_path / "nothing-here") == f"no drill files in {tmp_path / 'nothing-here'}"
