import csv
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from widenets_nb import __version__, config, reproduce, results
from widenets_nb.__main__ import main


def run_cli(*args, env=None):
    proc = subprocess.run([sys.executable, "-m", "widenets_nb", *args],
                          capture_output=True, text=True, timeout=300, env=env)
    return proc.returncode, proc.stdout, proc.stderr


def test_info_prints_json(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("WIDENETS_COMPILATION_CACHE", "JAX_COMPILATION_CACHE_DIR")}
    code, out, err = run_cli("info", env={**env, "WIDENETS_CACHE": str(tmp_path)})
    assert code == 0, err
    info = json.loads(out)
    import jax

    assert info["backend"] == jax.default_backend()
    assert info["devices"] and info["profile"] in ("quick", "standard", "paper")
    assert info["version"] == __version__ and info["x64"] in (True, False)
    # the persistent compilation cache is on by default, beside the result cache
    assert info["cache_dir"] == str(tmp_path)
    assert info["compilation_cache"] == str(tmp_path / "xla")


def test_help_lists_commands():
    code, out, _ = run_cli("--help")
    assert code == 0 and "reproduce" in out


def test_unknown_target_is_one_line_error(capsys):
    assert main(["reproduce", "no-such-table"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown target 'no-such-table'") and err.count("\n") == 1


def test_reproduce_writes_results_with_provenance(tmp_path, monkeypatch):
    scaling = results.scaling("demo", (8, 16, 32), [[1.0, 1.1, 0.9], [0.5, 0.55, 0.45],
                                                    [0.25, 0.2, 0.3]], labels={"row": 1})

    def demo(profile):
        return results.Report("demo", {"widths": [8, 16, 32]}, (scaling,), {"rows": [1, 2]},
                              "| a |\n|---|\n| 1 |")

    monkeypatch.setitem(reproduce.TARGETS, "demo", demo)
    json_path, md_path = reproduce.run("demo", "quick", directory=tmp_path)
    data = json.loads(json_path.read_text())
    assert data["data"] == {"rows": [1, 2]} and data["target"] == "demo"
    assert set(data["provenance"]) >= {"command", "date", "version", "profile", "wall_time_s"}
    assert json_path.name == "demo_quick.json" and "| profile | `quick` |" in md_path.read_text()
    loaded = results.load("demo", "quick", directory=tmp_path)
    assert loaded.find(row=1) == scaling and loaded.provenance.profile == "quick"


def test_reproduce_rejects_unknown_option():
    with pytest.raises(ValueError, match="takes no --bogus option"):
        reproduce.run("table1", "quick", bogus=1)


def test_bad_profile_is_rejected():
    with pytest.raises(ValueError, match="not a profile"):
        reproduce.run("table1", "fast")


DEMO = [8 / n * (1 + np.random.default_rng(n).normal(0, 0.05, 20)) for n in (8, 16, 32)]


def _demo_report(profile):
    scaling = results.scaling("demo", (8, 16, 32), DEMO, labels={"row": 1})
    return results.Report("demo", {"widths": [8, 16, 32], "seed": 4}, (scaling,))


def _csv_rows(path):
    lines = path.read_text().splitlines()
    return list(csv.DictReader(line for line in lines if not line.startswith("#")))


def test_reproduce_format_csv_writes_the_scalings_beside_the_json(tmp_path, monkeypatch,
                                                                   capsys):
    monkeypatch.setitem(reproduce.TARGETS, "demo", _demo_report)
    monkeypatch.setattr(config, "RESULTS_DIR", tmp_path)
    assert main(["reproduce", "demo", "--profile", "quick", "--format", "csv"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["csv"] == str(tmp_path / "demo_quick.csv") and out["json"].endswith(".json")
    path = tmp_path / "demo_quick.csv"
    loaded = results.load("demo", "quick", tmp_path)
    assert path.read_text() == results.to_csv(loaded)
    (s,) = loaded.scalings
    rows = _csv_rows(path)
    assert [int(r["width"]) for r in rows] == [8, 16, 32] and {r["row"] for r in rows} == {"1"}
    assert [float(r["value"]) for r in rows] == pytest.approx([x.mean() for x in DEMO],
                                                              rel=1e-12)
    assert s.fitted and [float(r["slope"]) for r in rows] == [s.slope] * 3
    assert f"# widenets {__version__}: demo" == path.read_text().splitlines()[0]


def test_reproduce_stored_writes_the_csv_of_a_committed_report_without_rerunning(
        tmp_path, monkeypatch, capsys):
    shutil.copy(results.path("table1", "quick"), tmp_path / "table1_quick.json")
    monkeypatch.setattr(config, "RESULTS_DIR", tmp_path)
    monkeypatch.setitem(reproduce.TARGETS, "table1", lambda *a, **k: pytest.fail("reran"))
    assert main(["reproduce", "table1", "--profile", "quick", "--stored",
                 "--format", "csv"]) == 0
    assert json.loads(capsys.readouterr().out)["csv"] == str(tmp_path / "table1_quick.csv")
    report = results.load("table1", "quick", tmp_path)
    rows = _csv_rows(tmp_path / "table1_quick.csv")
    assert len(rows) == sum(len(s.widths) for s in report.scalings)
    first = report.find(row=1, activation="linear")
    mine = [r for r in rows if r["row"] == "1" and r["activation"] == "linear"]
    assert [float(r["value"]) for r in mine] == list(first.values)
    assert [float(r["stderr"]) for r in mine] == list(first.stderr)
    assert main(["reproduce", "table2", "--profile", "quick", "--stored"]) == 2
    assert "reproduce table2 --profile quick" in capsys.readouterr().err
