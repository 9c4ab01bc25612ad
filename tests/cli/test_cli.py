"""Tests of the ``pbufjax`` command line: parsing, config files, bad inputs, store and data commands, workflow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pbufjax import cli
from pbufjax import config as cfgmod
from pbufjax.parameter_store import OptimizedParameterStore

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
DATA_DIR = Path(os.environ.get("PBUFJAX_DATA_DIR") or SHARED_DATA)
HAVE_DATA = (DATA_DIR / "bao" / "desi_dr2" / "desi_gaussian_bao_ALL_GCcomb_mean.txt").is_file()
needs_data = pytest.mark.skipif(not HAVE_DATA, reason="release data (PBUFJAX_DATA_DIR) not available")

OK = {"convergence_status": "success", "dataset": "cmb"}


@pytest.fixture
def run(monkeypatch, tmp_path, capsys):
    """Run the CLI in-process in a temporary folder with a private store; return (code, out, err)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PBUFJAX_STORE_DIR", str(tmp_path / "store"))
    if HAVE_DATA:
        monkeypatch.setenv("PBUFJAX_DATA_DIR", str(DATA_DIR))

    def _run(*argv):
        capsys.readouterr()
        code = cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def _cli(*argv, cwd, env=None, timeout=300):
    """Run ``python -m pbufjax`` in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "pbufjax", *map(str, argv)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# ---------------------------------------------------------------------------
# config files


def test_config_reference_example_is_valid():
    doc = {
        "optimization": {
            "optimize_parameters": ["k_sat", "alpha"],
            "frozen_parameters": ["Tcmb", "Neff"],
            "use_precomputed": True,
            "save_results": True,
            "convergence_tolerance": 1e-6,
            "covariance_scaling": 1.0,
            "warm_start": True,
            "dry_run": False,
        },
        "parameter_overrides": {"H0": 70.0},
    }
    cfg = cfgmod.validate_config(doc, "run.json")
    assert cfg["optimization"]["optimize_parameters"] == ["k_sat", "alpha"]
    assert cfg["parameter_overrides"] == {"H0": 70.0}
    cfgmod.check_model_parameters(cfg, "pbuf", "run.json")
    with pytest.raises(cfgmod.ConfigError, match="k_sat.*valid parameters"):
        cfgmod.check_model_parameters(cfg, "lcdm", "run.json")


@pytest.mark.parametrize(
    "doc, match",
    [
        ({"optimisation": {}}, r"optimisation is not a known key; allowed keys: description, model"),
        (
            {"optimization": {"optimize": ["H0"]}},
            r"optimization.optimize is not a known key; allowed keys in optimization: optimize_parameters",
        ),
        ({"optimization": {"dry_run": "no"}}, r"optimization.dry_run must be true or false"),
        (
            {"optimization": {"covariance_scaling": -1}},
            r"covariance_scaling = -1 is out of range; allowed: > 0 and <= 1000",
        ),
        ({"optimization": {"covariance_scaling": "big"}}, r"covariance_scaling must be a number"),
        ({"optimization": {"convergence_tolerance": 2}}, r"convergence_tolerance = 2 is out of range"),
        ({"optimization": {"optimize_parameters": [1, 2]}}, r"optimize_parameters must be a list of names"),
        ({"parameter_overrides": {"H0": "70"}}, r"parameter_overrides.H0 must be a finite number"),
        ({"parameter_overrides": [70]}, r"parameter_overrides must map"),
        ({"mode": "both"}, r"mode = 'both'; allowed values: joint, individual"),
        (
            {"optimizer": {"method": "minimize", "opts": {}}},
            r"optimizer.opts is not a known key; allowed keys in optimizer: method, options, bounds",
        ),
        ({"optimizer": {"bounds": {"H0": [80, 50]}}}, r"lower bound must be below upper bound"),
        ({"datasets": []}, r"at least one dataset"),
        ([1, 2], r"top level must be a JSON object"),
    ],
)
def test_config_validation_errors_name_the_key(doc, match):
    with pytest.raises(cfgmod.ConfigError, match=match):
        cfgmod.validate_config(doc, "run.json")


def test_load_config_file_errors(tmp_path):
    with pytest.raises(cfgmod.ConfigError, match="does not exist"):
        cfgmod.load_config(tmp_path / "missing.json")
    with pytest.raises(cfgmod.ConfigError, match="is a directory"):
        cfgmod.load_config(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text('{"model": "lcdm",\n "datasets": [cmb]}')
    with pytest.raises(cfgmod.ConfigError, match="not valid JSON: .* line 2 column"):
        cfgmod.load_config(bad)


def test_merge_settings_precedence():
    merged = cfgmod.merge_settings(
        cfgmod.OPTIMIZATION_DEFAULTS,
        {"covariance_scaling": 1.2, "warm_start": True},
        {"covariance_scaling": 1.5, "warm_start": None},
    )
    assert merged["covariance_scaling"] == 1.5 and merged["warm_start"] is True and merged["use_precomputed"] is True


def test_example_configs_are_valid():
    folder = Path(__file__).resolve().parents[2] / "documents" / "examples"
    files = sorted(folder.glob("*.json"))
    assert files, "documents/examples holds example configurations"
    for f in files:
        cfg = cfgmod.load_config(f)
        cfgmod.check_model_parameters(cfg, cfg["model"] or "lcdm", str(f))


# ---------------------------------------------------------------------------
# help, version, settings resolution


def test_help_lists_models_datasets_parameters(run):
    code, out, _ = run("fit", "--help")
    assert code == 0
    for word in (
        "lcdm",
        "pbuf",
        "wcdm",
        "w0wacdm",
        "k_sat*",
        "desi_dr2",
        "cmb -> planck2018_priors",
        "minimize",
        "precedence",
    ):
        assert word in out
    for command in ("fit-cmb", "fit-bao", "fit-aniso", "fit-sn", "fit-joint", "integrity", ""):
        code, out, _ = run(*command.split(), "--help")
        assert code == 0 and ("usage: pbufjax " + command).strip() in out
        assert "pbuf" in out and "k_sat*" in out and "desi_dr2" in out, command
    for command in ("data", "data list", "data info", "data fetch", "data verify"):
        code, out, _ = run(*command.split(), "--help")
        assert code == 0 and "desi_dr2" in out and "cmb -> planck2018_priors" in out, command
    for command in ("store", "store show", "store history", "store consistency"):
        code, out, _ = run(*command.split(), "--help")
        assert code == 0 and "lcdm" in out and "pbuf" in out, command
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("pbufjax ")


def _settings(run_args, tmp_path):
    parser = cli.build_parser()
    args = parser.parse_args(run_args)
    return cli.resolve_fit_settings(args)


@needs_data
def test_precedence_cli_over_config_over_store_over_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PBUFJAX_DATA_DIR", str(DATA_DIR))
    store_dir = tmp_path / "store"
    store = OptimizedParameterStore(store_dir)
    store.update_model_defaults("pbuf", {"H0": 68.0, "Om0": 0.30, "k_sat": 0.95}, OK)
    conf = tmp_path / "run.json"
    conf.write_text(
        json.dumps(
            {
                "model": "pbuf",
                "datasets": ["cmb"],
                "optimization": {"optimize_parameters": ["k_sat", "alpha"], "covariance_scaling": 1.2},
                "parameter_overrides": {"Om0": 0.31, "alpha": 1e-4},
            }
        )
    )
    s = _settings(
        ["fit", "--config", str(conf), "--store-dir", str(store_dir), "--Om0", "0.32", "--cov-scale", "1.5"], tmp_path
    )
    assert s["model"] == "pbuf" and s["datasets"] == ["cmb"]
    assert s["optimize"] == ["k_sat", "alpha"]
    assert s["overrides"] == {"H0": 68.0, "Om0": 0.32, "k_sat": 0.95, "alpha": 1e-4}
    assert s["sources"] == {"H0": "store", "Om0": "command line", "k_sat": "store", "alpha": "config"}
    assert s["covariance_scaling"] == 1.5
    # the command line's --optimize replaces the config's list; --freeze wins over both
    s = _settings(
        ["fit", "--config", str(conf), "--store-dir", str(store_dir), "--optimize", "H0,Om0,k_sat", "--freeze", "Om0"],
        tmp_path,
    )
    assert s["optimize"] == ["H0", "k_sat"] and s["frozen"] == ["Om0"]
    # --no-precomputed drops the store layer
    s = _settings(["fit-cmb", "--model", "pbuf", "--store-dir", str(store_dir), "--no-precomputed"], tmp_path)
    assert s["overrides"] == {} and s["datasets"] == ["cmb"]
    # the subcommand's datasets, --set
    s = _settings(["fit-joint", "--store-dir", str(store_dir), "--set", "H0=70", "--Obh2", "0.0224"], tmp_path)
    assert s["model"] == "lcdm" and s["datasets"] == ["cmb", "bao", "sn"]
    assert s["overrides"] == {"H0": 70.0, "Obh2": 0.0224}


def test_warm_start_layer(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store_dir = tmp_path / "store"
    store = OptimizedParameterStore(store_dir)
    store.update_model_defaults("lcdm", {"H0": 69.0}, {**OK, "timestamp": "2020-01-01T00:00:00Z"})
    s = _settings(["fit-cmb", "--store-dir", str(store_dir), "--no-precomputed", "--warm-start"], tmp_path)
    assert s["overrides"] == {}, "a 2020 record is too old for a warm start"
    store.update_model_defaults("lcdm", {"Om0": 0.31}, OK)
    s = _settings(["fit-cmb", "--store-dir", str(store_dir), "--no-precomputed", "--warm-start"], tmp_path)
    assert s["overrides"] == {"Om0": 0.31} and s["sources"] == {"Om0": "warm start"}


# ---------------------------------------------------------------------------
# bad inputs: exit code 2, one line on stderr, no traceback


def _bad_inputs(tmp: Path) -> list[tuple[str, list[str], str]]:
    (tmp / "unknown_key.json").write_text('{"optimisation": {"optimize_parameters": ["H0"]}}')
    (tmp / "wrong_type.json").write_text('{"optimization": {"covariance_scaling": "large"}}')
    (tmp / "out_of_range.json").write_text('{"optimization": {"convergence_tolerance": 5}}')
    (tmp / "bad_param.json").write_text('{"parameter_overrides": {"k_sat": 1.0}}')
    (tmp / "not_json.json").write_text("{model: lcdm}")
    (tmp / "bad_option.json").write_text(
        '{"optimizer": {"options": {"foo": 1}}, "optimization": {"optimize_parameters": ["H0"]}}'
    )
    (tmp / "binary.json").write_bytes(b"\xff\xfe\x00")
    corrupt = tmp / "corrupt_store"
    corrupt.mkdir()
    (corrupt / "lcdm_defaults.json").write_text('{"schema_version": 1, "model": "lcdm", "parameters": {"H0": ')
    newer = tmp / "newer_store"
    newer.mkdir()
    (newer / "optimization_history.json").write_text('{"schema_version": 7, "records": []}')
    empty = tmp / "empty_data"
    empty.mkdir()
    a_file = tmp / "a_file"
    a_file.write_text("x")
    return [
        ("unknown model", ["fit", "--model", "lcmd", "--datasets", "cmb"], "unknown model 'lcmd'; valid models: lcdm"),
        ("unknown dataset", ["fit", "--datasets", "cmb,desi_dr9"], "unknown dataset 'desi_dr9'; valid datasets"),
        ("no datasets", ["fit"], "no datasets given"),
        ("duplicate dataset", ["fit", "--datasets", "bao,desi_dr2"], "listed twice"),
        ("empty list item", ["fit", "--datasets", "cmb,,bao"], "empty name"),
        (
            "unknown parameter to optimize",
            ["fit-cmb", "--optimize", "H0,Omega_m"],
            "'Omega_m' cannot be optimized for model 'lcdm'; valid parameters",
        ),
        (
            "parameter of another model",
            ["fit-cmb", "--model", "lcdm", "--optimize", "k_sat"],
            "'k_sat' cannot be optimized",
        ),
        (
            "override of another model",
            ["fit-cmb", "--model", "lcdm", "--k_sat", "1.0"],
            "--k_sat: not a parameter of model 'lcdm'",
        ),
        ("unknown flag", ["fit-cmb", "--H00", "70"], "unrecognized arguments: --H00"),
        ("non-numeric value", ["fit-cmb", "--H0", "seventy"], "invalid number 'seventy'"),
        ("non-finite value", ["fit-cmb", "--H0", "nan"], "not a finite number"),
        ("non-physical value", ["fit-cmb", "--H0", "-5"], "H0"),
        ("bad --set", ["fit-cmb", "--set", "H0:70"], "expected NAME=VALUE"),
        ("unknown --set name", ["fit-cmb", "--set", "h=0.7"], "'h' is not a parameter of model 'lcdm'"),
        ("bad mode", ["fit-cmb", "--mode", "both"], "invalid choice: 'both'"),
        (
            "bad optimizer",
            ["fit-cmb", "--optimize", "H0", "--optimizer", "no-such-method"],
            "unknown optimizer 'no-such-method'; valid optimizers",
        ),
        ("negative cov scale", ["fit-cmb", "--cov-scale", "-1"], "--cov-scale = -1 is out of range"),
        ("tolerance out of range", ["fit-cmb", "--tol", "3"], "--tol = 3 is out of range"),
        ("zero maxiter", ["fit-cmb", "--maxiter", "0"], "must be >= 1"),
        ("freeze unknown parameter", ["fit-cmb", "--freeze", "Omega"], "--freeze: frozen_parameters: 'Omega' is not a parameter"),
        (
            "config unknown key",
            ["fit-cmb", "--config", tmp / "unknown_key.json"],
            "optimisation is not a known key; allowed keys",
        ),
        (
            "config wrong type",
            ["fit-cmb", "--config", tmp / "wrong_type.json"],
            "optimization.covariance_scaling must be a number",
        ),
        (
            "config out of range",
            ["fit-cmb", "--config", tmp / "out_of_range.json"],
            "convergence_tolerance = 5 is out of range",
        ),
        (
            "config parameter of another model",
            ["fit-cmb", "--config", tmp / "bad_param.json"],
            "parameter_overrides.k_sat: not a parameter of model 'lcdm'",
        ),
        ("start outside the bounds", ["fit-cmb", "--optimize", "H0", "--H0", "200"], "outside its bounds"),
        ("unknown optimizer option", ["fit-cmb", "--config", tmp / "bad_option.json"], "unknown option(s) ['foo']"),
        ("config not JSON", ["fit-cmb", "--config", tmp / "not_json.json"], "is not valid JSON"),
        ("config not UTF-8", ["fit-cmb", "--config", tmp / "binary.json"], "not UTF-8"),
        ("config missing", ["fit-cmb", "--config", tmp / "nope.json"], "does not exist"),
        ("config is a folder", ["fit-cmb", "--config", tmp], "is a directory"),
        ("corrupt store", ["fit-cmb", "--store-dir", corrupt], "lcdm_defaults.json is unusable: not valid JSON"),
        ("store of a newer version", ["store", "history", "--store-dir", newer], "schema_version 7 is newer"),
        ("store dir is a file", ["store", "show", "--store-dir", a_file], "is not a directory"),
        ("missing data file", ["fit-bao", "--data-dir", empty], "pbufjax data fetch desi_dr2"),
        ("data dir missing", ["fit-bao", "--data-dir", tmp / "nowhere"], "--data-dir"),
        ("output is a folder", ["fit-cmb", "--output", tmp], "is a directory"),
        ("unknown command", ["fitt"], "invalid choice: 'fitt'"),
        ("unknown data action", ["data", "download", "bao"], "invalid choice: 'download'"),
        ("data info unknown", ["data", "info", "planck2020"], "unknown dataset 'planck2020'"),
        ("store unknown model", ["store", "show", "--model", "lambda"], "unknown model 'lambda'"),
        ("consistency one model", ["store", "consistency", "--models", "lcdm"], "at least two models"),
        ("integrity unknown model", ["integrity", "--model", "xcdm"], "unknown model 'xcdm'"),
    ]


def test_bad_inputs_exit_2_with_one_line(run, tmp_path, monkeypatch, no_shipped_data):
    monkeypatch.setenv("PBUFJAX_CACHE_DIR", str(tmp_path / "empty_cache"))
    # --data-dir is searched first, then $PBUFJAX_DATA_DIR: unset it so that the empty --data-dir is all there is
    monkeypatch.delenv("PBUFJAX_DATA_DIR", raising=False)
    cases = _bad_inputs(tmp_path)
    assert len(cases) >= 20
    for label, argv, expected in cases:
        code, out, err = run(*argv)
        assert code == 2, f"{label}: exit code {code}, stderr {err!r}"
        lines = err.strip().splitlines()
        assert len(lines) == 1, f"{label}: expected one line, got {err!r}"
        assert "Traceback" not in err and out == "", label
        assert lines[0].startswith("pbufjax"), label
        assert expected in lines[0], f"{label}: {expected!r} not in {lines[0]!r}"


def test_bad_inputs_from_the_shell(tmp_path):
    """The real entry point (not the in-process function) prints one line and exits 2."""
    for argv, expected in (
        (["fit", "--model", "nope", "--datasets", "cmb"], "valid models"),
        (["fit-cmb", "--cov-scale", "abc"], "invalid number"),
        (["store", "frobnicate"], "invalid choice"),
    ):
        res = _cli(*argv, cwd=tmp_path, env={"PBUFJAX_STORE_DIR": str(tmp_path / "s")})
        assert res.returncode == 2, res.stderr
        assert len(res.stderr.strip().splitlines()) == 1 and expected in res.stderr
        assert "Traceback" not in res.stderr


def test_corrupt_store_file_is_left_untouched_by_the_cli(run, tmp_path):
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    bad = store_dir / "optimization_history.json"
    bad.write_bytes(b'{"schema_version": 1, "records": [')
    code, _, err = run("store", "history")
    assert code == 2 and str(bad) in err
    assert bad.read_bytes() == b'{"schema_version": 1, "records": ['
    code, out, _ = run("store", "repair")
    assert code == 0 and "kept the corrupt file as" in out
    backups = list(store_dir.glob("optimization_history.json.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == b'{"schema_version": 1, "records": ['
    code, out, _ = run("store", "history")
    assert code == 0 and "no optimization records" in out


# ---------------------------------------------------------------------------
# store and data commands


def test_store_commands(run, tmp_path):
    store = OptimizedParameterStore(tmp_path / "store")
    code, out, _ = run("store", "show")
    assert code == 0 and "no optimized values" in out
    store.update_model_defaults("pbuf", {"k_sat": 0.95, "H0": 68.0}, {**OK, "chi2_improvement": 3.25})
    store.update_model_defaults("lcdm", {"H0": 67.0}, OK)
    code, out, _ = run("store", "show")
    assert code == 0 and "k_sat" in out and "0.95" in out and "pbuf" in out
    code, out, _ = run("store", "show", "--json")
    doc = json.loads(out)
    assert doc["models"]["pbuf"]["stored"] == {"k_sat": 0.95, "H0": 68.0}
    code, out, _ = run("store", "history", "--model", "pbuf")
    assert code == 0 and "3.25" in out and "lcdm" not in out
    code, out, _ = run("store", "history", "--json", "--limit", "1")
    assert [r["model"] for r in json.loads(out)] == ["lcdm"]
    code, out, _ = run("store", "consistency")
    assert code == 0 and "DIVERGENT" in out and "H0" in out
    code, out, _ = run("store", "consistency", "--json")
    assert json.loads(out)["H0"]["divergence"] == pytest.approx(1.0 / 67.5)
    code, out, _ = run("store", "export", "--output", tmp_path / "rep" / "summary.json")
    assert code == 0
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    assert summary["n_records"] == 2 and set(summary["models"]) == {"lcdm", "pbuf"}
    code, out, _ = run("store", "export")
    assert code == 0 and (tmp_path / "reports" / "optimization_summary.json").is_file()
    code, out, _ = run("store", "repair")
    assert code == 0 and "healthy" in out


@needs_data
def test_data_commands(run, tmp_path, monkeypatch, no_shipped_data):
    monkeypatch.setenv("PBUFJAX_CACHE_DIR", str(tmp_path / "empty_cache"))
    code, out, _ = run("data", "list")
    assert code == 0
    for name in ("planck2018_priors", "desi_dr2", "boss_dr12", "union3", "embedded"):
        assert name in out
    code, out, _ = run("data", "info", "bao")
    assert code == 0 and "desi_dr2" in out and str(DATA_DIR) in out
    code, out, _ = run("data", "info", "cmb", "--json")
    assert json.loads(out)["name"] == "planck2018_priors"
    code, out, _ = run("data", "verify", "bao", "sn", "--json")
    rows = json.loads(out)
    assert code == 0 and {r["status"] for r in rows} == {"ok"} and len(rows) == 4
    # a modified file fails the hash check: exit 2 (as fit), the row says so
    copy = tmp_path / "data"
    shutil.copytree(DATA_DIR / "bao" / "desi_dr2", copy / "bao" / "desi_dr2")
    with open(copy / "bao" / "desi_dr2" / "desi_gaussian_bao_ALL_GCcomb_mean.txt", "a") as fh:
        fh.write("# modified\n")
    code, out, _ = run("data", "verify", "bao", "--data-dir", copy)
    assert code == 2 and "HASH MISMATCH" in out
    # a missing file names the fetch command
    monkeypatch.setenv("PBUFJAX_DATA_DIR", str(tmp_path / "empty_cache"))
    (tmp_path / "empty_cache").mkdir(exist_ok=True)
    code, out, _ = run("data", "verify", "bao", "--json")
    rows = json.loads(out)
    assert code == 2 and {r["status"] for r in rows} == {"missing"}
    assert rows[0]["fetch_command"] == "pbufjax data fetch desi_dr2"


def test_main_restores_environment_and_logging(run, tmp_path):
    import logging

    before = (logging.getLogger("pbufjax").handlers[:], os.environ.get("PBUFJAX_DATA_DIR"))
    (tmp_path / "d").mkdir()
    run("store", "show")
    run("fit-bao", "--data-dir", tmp_path / "d")
    assert (logging.getLogger("pbufjax").handlers[:], os.environ.get("PBUFJAX_DATA_DIR")) == before


@needs_data
def test_integrity_command(run):
    code, out, err = run("integrity", "--model", "pbuf", "--datasets", "cmb,bao,bao_ani")
    assert code == 0, err
    assert "H(z) vs closed form" in out and "covariance bao (desi_dr2)" in out and "overall: pass" in out
    assert "overlap" in out  # DESI DR2 + BOSS DR12 is flagged
    code, out, _ = run("integrity", "--json", "--datasets", "cmb")
    assert code == 0 and json.loads(out)["passed"] is True


# ---------------------------------------------------------------------------
# the fit command's own logic, on a stand-in engine (store updates, exit codes, output)


class FakeEngine:
    """Records run_fit calls; returns a ResultsDict-shaped answer with a chosen status."""

    def __init__(self, status="success"):
        self.status = status
        self.calls = []

    def run_fit(
        self,
        model,
        datasets_list,
        mode="joint",
        overrides=None,
        optimizer_config=None,
        optimization_params=None,
        *,
        data_dir=None,
    ):
        import numpy as np

        from pbufjax.parameter import get_defaults

        self.calls.append(
            dict(
                model=model,
                datasets=datasets_list,
                mode=mode,
                overrides=overrides,
                optimizer_config=optimizer_config,
                optimization_params=optimization_params,
                data_dir=data_dir,
            )
        )
        params = {**get_defaults(model), **(overrides or {})}
        for i, name in enumerate(optimization_params or []):
            params[name] = params[name] * (1.0 + 0.01 * (i + 1))
        result = {
            "params": params,
            "results": {d: {"chi2": 1.5, "residuals": np.zeros(3)} for d in datasets_list},
            "metrics": {
                "total_chi2": 1.5 * len(datasets_list),
                "aic": 9.0,
                "bic": 10.0,
                "dof": 3,
                "p_value": 0.5,
                "reduced_chi2": 0.5,
            },
            "uncertainties": {p: 0.1 for p in optimization_params or []},
        }
        if optimization_params:
            result["optimization"] = {"convergence_status": self.status, "chi2_improvement": 2.0, "method": "minimize"}
        return result


@pytest.fixture
def fake_engine(monkeypatch):


    fake = FakeEngine()
    from pbufjax.analysis import engine

    monkeypatch.setattr(engine, "run_fit", fake.run_fit)
    return fake


@pytest.mark.release_files("desi_dr2", "union3")
def test_fit_stores_converged_optimization_and_feeds_next_fit(run, fake_engine, tmp_path):
    code, out, err = run(
        "fit-cmb", "--model", "pbuf", "--optimize", "k_sat,H0", "--json", "--output", tmp_path / "o" / "r.json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["run"]["store"]["stored"] is True
    assert json.loads((tmp_path / "o" / "r.json").read_text())["params"] == doc["params"]
    store = OptimizedParameterStore(tmp_path / "store")
    stored = store.get_stored_parameters("pbuf")
    assert stored == {"k_sat": pytest.approx(0.9762 * 1.01), "H0": pytest.approx(67.4 * 1.02)}
    rec = store.get_optimization_history("pbuf")[-1]
    assert rec["dataset"] == "cmb" and rec["chi2_improvement"] == 2.0 and rec["convergence_status"] == "success"
    assert rec["metadata"]["optimizer"] == "minimize" and rec["metadata"]["final_chi2"] == 1.5
    # the next fit starts from the stored values
    code, out, err = run("fit-bao", "--model", "pbuf")
    assert code == 0, err
    assert fake_engine.calls[-1]["overrides"] == stored
    assert fake_engine.calls[-1]["optimization_params"] is None
    assert "(store)" in out and "evaluated at fixed parameters" in out


def test_fit_not_converged_exits_1_and_stores_nothing(run, fake_engine, tmp_path):
    fake_engine.status = "max_iter"
    code, out, err = run("fit-cmb", "--optimize", "H0,Om0")
    assert code == 1
    assert "did not converge (status: max_iter)" in err and "H0, Om0: DID NOT CONVERGE (max_iter)" in out
    assert not (tmp_path / "store" / "lcdm_defaults.json").exists()


@pytest.mark.parametrize("flag, reason", [("--dry-run", "dry run"), ("--no-save", "save_results is false")])
def test_fit_dry_run_and_no_save_store_nothing(run, fake_engine, tmp_path, flag, reason):
    code, out, err = run("fit-cmb", "--optimize", "H0", flag)
    assert code == 0, err
    assert f"store not updated: {reason}" in out
    assert not (tmp_path / "store" / "lcdm_defaults.json").exists()


@pytest.mark.release_files("desi_dr2", "union3")
def test_fit_individual_mode_does_not_store(run, fake_engine, tmp_path):
    code, out, err = run("fit", "--datasets", "cmb,bao", "--mode", "individual", "--optimize", "H0")
    assert code == 0, err
    assert "individual mode" in out and fake_engine.calls[-1]["mode"] == "individual"
    assert not (tmp_path / "store" / "lcdm_defaults.json").exists()


def test_fit_passes_optimizer_settings(run, fake_engine, tmp_path):
    conf = tmp_path / "c.json"
    conf.write_text(
        json.dumps(
            {
                "optimizer": {"method": "lbfgs", "options": {"maxiter": 50}},
                "optimization": {"convergence_tolerance": 1e-7, "covariance_scaling": 1.2},
            }
        )
    )
    code, _, err = run("fit-cmb", "--optimize", "H0", "--config", conf, "--maxiter", "300")
    assert code == 0, err
    oc = fake_engine.calls[-1]["optimizer_config"]
    assert oc["method"] == "lbfgs" and oc["options"] == {"maxiter": 300, "ftol": 1e-7}
    assert oc["covariance_scaling"] == 1.2
    code, _, _ = run("fit-cmb", "--optimize", "H0", "--config", conf, "--optimizer", "minimize", "--cov-scale", "1.5")
    oc = fake_engine.calls[-1]["optimizer_config"]
    assert oc["method"] == "minimize" and oc["covariance_scaling"] == 1.5


def test_fit_table_output(run, fake_engine):
    code, out, _ = run("fit-cmb", "--model", "pbuf", "--optimize", "k_sat")
    assert code == 0
    assert "optimized k_sat" in out and "converged" in out
    assert "k_sat" in out and "cmb" in out and "stored k_sat as pbuf defaults" in out


# ---------------------------------------------------------------------------
# end to end, from the shell, on the real engine


def _fit_json(res: subprocess.CompletedProcess) -> dict:
    assert res.returncode == 0, f"exit {res.returncode}: {res.stderr[-2000:]}"
    return json.loads(res.stdout)


@needs_data
@pytest.mark.slow
def test_three_step_workflow_from_the_shell(tmp_path):
    """fit-cmb --optimize stores values; fit-bao evaluates at them; fit-joint starts from them."""
    env = {"PBUFJAX_DATA_DIR": str(DATA_DIR)}
    env_no_store = {k: v for k, v in os.environ.items() if k != "PBUFJAX_STORE_DIR"}  # default ./optimization_results

    def shell(*argv):
        return subprocess.run(
            [sys.executable, "-m", "pbufjax", *argv],
            cwd=tmp_path,
            env={**env_no_store, **env},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    # step 1: optimize PBUF on the CMB priors
    step1 = _fit_json(shell("fit-cmb", "--model", "pbuf", "--optimize", "k_sat,alpha,H0,Om0", "--json"))
    assert step1["run"]["convergence_status"] == "success" and step1["run"]["store"]["stored"] is True
    store_file = tmp_path / "optimization_results" / "pbuf_defaults.json"
    stored = json.loads(store_file.read_text())["parameters"]
    # the CMB priors alone do not constrain k_sat and alpha: recorded in the history, not stored (issue 12)
    assert set(stored) == {"H0", "Om0"}
    assert set(step1["run"]["store"]["not_stored"]) == {"k_sat", "alpha"}
    for name, value in stored.items():
        assert value == pytest.approx(step1["params"][name], rel=1e-12)

    # step 2: BAO uses the stored values ...
    step2 = _fit_json(shell("fit-bao", "--model", "pbuf", "--json"))
    assert step2["run"]["starting_value_sources"] == {k: "store" for k in stored}
    for name, value in stored.items():
        assert step2["params"][name] == pytest.approx(value, rel=1e-12)
    # ... which demonstrably changes the result: without the store the BAO χ² differs
    plain = _fit_json(shell("fit-bao", "--model", "pbuf", "--no-precomputed", "--json"))
    assert plain["params"]["H0"] == pytest.approx(67.4)
    assert step2["metrics"]["total_chi2"] != pytest.approx(plain["metrics"]["total_chi2"], rel=1e-6)

    # a fit stopped by its iteration limit says so, exits 1 and leaves the store alone
    before = store_file.read_bytes()
    # (start far from the stored CMB optimum, where one iteration cannot converge)
    res = shell("fit-cmb", "--model", "pbuf", "--optimize", "H0,Om0", "--H0", "60", "--Om0", "0.4", "--maxiter", "1")
    assert res.returncode == 1 and "did not converge (status: max_iter)" in res.stderr
    assert "DID NOT CONVERGE (max_iter)" in res.stdout and store_file.read_bytes() == before

    # step 3: joint fit from the pre-optimized values (table output, then the store holds the joint values)
    res = shell("fit-joint", "--model", "pbuf", "--datasets", "cmb,bao,sn", "--optimize", "H0,Om0")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "(store)" in res.stdout and "stored H0, Om0 as pbuf defaults" in res.stdout
    hist = json.loads((tmp_path / "optimization_results" / "optimization_history.json").read_text())["records"]
    assert [r["dataset"] for r in hist] == ["cmb", "cmb,bao,sn"]
    assert hist[1]["metadata"]["starting_values"] == {"H0": stored["H0"], "Om0": stored["Om0"]}


def _build_isolated_install(tmp_path: Path) -> Path:
    """Non-editable ``pip install`` of a copy of the project into a fresh venv; returns its bin folder."""
    pytest.importorskip("wheel", reason="building the wheel offline needs the 'wheel' package")
    import sysconfig

    repo = Path(__file__).resolve().parents[2]
    src = tmp_path / "project"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for item in ("pyproject.toml", "README.md"):
        shutil.copy2(repo / item, src / item)
    for folder in ("src", "data"):
        shutil.copytree(repo / folder, src / folder, ignore=ignore)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # dependencies (jax, numpy, ...) come from the test environment, the project itself from the wheel
    purelib = Path(
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (purelib / "test_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    return venv / "bin"


@pytest.mark.slow
def test_non_editable_install_fits_without_data_dir(tmp_path):
    bindir = _build_isolated_install(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PBUFJAX_") and k != "PYTHONPATH"}
    env.update(HOME=str(tmp_path / "home"), PBUFJAX_CACHE_DIR=str(tmp_path / "empty_cache"))
    where = subprocess.run(
        [str(bindir / "python"), "-c", "import pbufjax; print(pbufjax.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(tmp_path / "venv") in where, f"imported {where} instead of the installed copy"

    res = subprocess.run(
        [str(bindir / "pbufjax"), "fit", "--model", "pbuf", "--datasets", "cmb"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "planck2018_priors" in res.stdout or "cmb" in res.stdout
    # the small release files ship inside the wheel: a BAO fit needs no data folder and no network
    res = subprocess.run(
        [str(bindir / "pbufjax"), "fit-bao"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    # a large file is fetched, not shipped: a fit needing it says where it looked and how to fetch
    res = subprocess.run(
        [str(bindir / "pbufjax"), "fit", "--model", "lcdm", "--datasets", "desy5"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert res.returncode == 2 and "pbufjax data fetch desy5" in res.stderr, res.stderr[-2000:]
    assert len(res.stderr.strip().splitlines()) == 1

    if HAVE_DATA:  # the README's main command, with a data directory
        env["PBUFJAX_DATA_DIR"] = str(DATA_DIR)
        res = subprocess.run(
            [
                str(bindir / "pbufjax"),
                "fit",
                "--model",
                "lcdm",
                "--datasets",
                "cmb,bao,sn",
                "--optimize",
                "H0,Om0,Obh2",
                "--json",
            ],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        doc = _fit_json(res)
        assert doc["run"]["convergence_status"] == "success"
        assert 60 < doc["params"]["H0"] < 75 and 0.25 < doc["params"]["Om0"] < 0.35


def test_data_fetch_and_fit_fetch_call_the_registry(run, monkeypatch, tmp_path, no_shipped_data):
    """No network: the registry's fetch is replaced; the commands call it with the right names."""
    from pbufjax.data import catalog

    calls = []

    def fake_fetch(name, data_dir=None, *, force=False, progressbar=False):
        calls.append((name, data_dir, force))
        return [tmp_path / "x.txt"]

    monkeypatch.setattr(catalog, "fetch", fake_fetch)
    code, out, _ = run("data", "fetch", "bao", "--force")
    assert code == 0 and calls == [("bao", None, True)] and "x.txt" in out
    monkeypatch.setenv("PBUFJAX_CACHE_DIR", str(tmp_path / "empty_cache"))
    monkeypatch.delenv("PBUFJAX_DATA_DIR", raising=False)  # searched after --data-dir
    (tmp_path / "empty").mkdir()
    code, _, err = run("fit-bao", "--fetch", "--data-dir", tmp_path / "empty")
    assert calls[-1][0] == "desi_dr2" and calls[-1][1] == (tmp_path / "empty").resolve()  # fetched into --data-dir
    assert code == 2 and "pbufjax data fetch desi_dr2" in err  # the stand-in fetched nothing


def test_progress_spinner_only_on_a_terminal(monkeypatch):
    import io
    import time

    from pbufjax.cli.output import progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for stream, enabled, shown in ((Terminal(), True, True), (Terminal(), False, False), (io.StringIO(), True, False)):
        monkeypatch.setattr(sys, "stderr", stream)
        with progress("optimizing H0 on cmb", enabled):
            time.sleep(0.15)
        assert ("optimizing H0 on cmb" in stream.getvalue()) is shown
