import json
import subprocess
import sys

import pytest

from widenets_nb import reproduce
from widenets_nb.__main__ import main


def run_cli(*args):
    proc = subprocess.run([sys.executable, "-m", "widenets_nb", *args],
                          capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def test_info_prints_json():
    code, out, err = run_cli("info")
    assert code == 0, err
    info = json.loads(out)
    assert info["backend"] == "cpu" and info["profile"] in ("quick", "standard", "paper")


def test_help_lists_commands():
    code, out, _ = run_cli("--help")
    assert code == 0 and "reproduce" in out


def test_unknown_target_is_one_line_error(capsys):
    assert main(["reproduce", "no-such-table"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown target 'no-such-table'") and err.count("\n") == 1


def test_reproduce_writes_results_with_provenance(tmp_path, monkeypatch):
    def demo(profile):
        return reproduce.Report(payload={"rows": [1, 2]}, markdown="| a |\n|---|\n| 1 |")

    monkeypatch.setitem(reproduce.TARGETS, "demo", f"{__name__}:_unused")
    monkeypatch.setattr(sys.modules[__name__], "_unused", demo, raising=False)
    monkeypatch.setattr(reproduce.config, "RESULTS_DIR", tmp_path)
    json_path, md_path = reproduce.run("demo", "quick")
    data = json.loads(json_path.read_text())
    assert data["rows"] == [1, 2] and data["target"] == "demo"
    assert set(data["provenance"]) >= {"command", "date", "version", "profile", "wall_time_s"}
    assert json_path.name == "demo_quick.json" and "| profile | `quick` |" in md_path.read_text()


def test_bad_profile_is_rejected():
    with pytest.raises(ValueError, match="not a profile"):
        reproduce.run.__globals__["config"].profile("fast")
