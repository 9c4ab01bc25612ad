"""The command line's one vocabulary: aliases, conflicts, --recomb-method, help on every subcommand,
choices read from the registries, --data-dir passed explicitly."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pbufjax import cli
from pbufjax.cli import args as cli_args

#: every subcommand (and action) of the command line
SUBCOMMANDS = [
    "fit", "fit-cmb", "fit-bao", "fit-aniso", "fit-sn", "fit-joint", "integrity", "sample", "mocks", "profile",
    "multistart", "data", "data list", "data info", "data fetch", "data verify",
    "store", "store show", "store history", "store export", "store consistency", "store repair",
    "plot", "plot bao", "plot sn", "plot corner", "plot profile", "plot mocks",
]


@pytest.fixture
def fake_engine(monkeypatch):
    """A stand-in engine that records its calls (and the environment it ran in)."""
    from pbufjax.parameter import get_defaults

    calls = []

    def run_fit(model, datasets_list, mode="joint", overrides=None, optimizer_config=None, optimization_params=None,
                *, data_dir=None):
        calls.append({"model": model, "overrides": overrides, "optimizer_config": optimizer_config,
                      "data_dir": data_dir, "optimization_params": optimization_params,
                      "env": os.environ.get("PBUFJAX_DATA_DIR")})
        return {"params": {**get_defaults(model), **(overrides or {})},
                "results": {d: {"chi2": 1.0} for d in datasets_list}, "metrics": {"total_chi2": 1.0},
                "optimization": {"convergence_status": "success", "chi2_improvement": 0.0}}

    from pbufjax.analysis import engine

    monkeypatch.setattr(engine, "run_fit", run_fit)
    return calls


def _parse(*argv):
    return cli.build_parser().parse_args(list(argv))


def test_help_of_every_subcommand_lists_models_and_datasets(run):
    from pbufjax.datasets import dataset_specs
    from pbufjax.parameter import available_models

    for command in SUBCOMMANDS:
        code, out, _ = run(*command.split(), "--help")
        assert code == 0, command
        for name in [*available_models(), *dataset_specs()]:
            assert name in out, f"{command} --help does not list {name}"
        assert "cmb -> planck2018_priors" in out, command


def test_fit_help_lists_every_registered_solver(run):
    from pbufjax.fit.solvers import solver_names

    code, out, _ = run("fit", "--help")
    assert code == 0
    line = next(ln for ln in out.splitlines() if ln.startswith("optimizers:"))
    assert line == "optimizers: " + ", ".join(solver_names())


def test_tolerance_option_and_optimizer_choices_come_from_the_solver_registry():
    from pbufjax.fit.solvers import get_solver, solver_names

    assert cli.TOLERANCE_OPTION == {n: get_solver(n).tolerance_option for n in solver_names()
                                    if get_solver(n).tolerance_option is not None}
    assert cli.TOLERANCE_OPTION["differential_evolution"] == "tol" and cli.TOLERANCE_OPTION["lbfgs"] == "ftol"
    assert cli.OPTIMIZER_CHOICES_FALLBACK == tuple(solver_names())


@pytest.mark.parametrize("command, optimizer", [(["fit-cmb"], True), (["sample", "--datasets", "cmb"], False),
                                                (["mocks", "--datasets", "cmb", "--n", "2"], True),
                                                (["profile", "--datasets", "cmb"], True)])
def test_aliases_give_the_same_settings(command, optimizer):
    a = _parse(*command, "--optimize", "H0,Om0", "--H0", "70", "--recomb-method", "HS96",
               *(["--optimizer", "newton"] if optimizer else []))
    b = _parse(*command, "--params", "H0,Om0", "--set", "H0=70", "--set", "recomb_method=HS96",
               *(["--method", "newton"] if optimizer else []))
    for ns in (a, b):
        assert cli_args.free_params(ns) == ["H0", "Om0"]
        assert cli_args.parameter_values(ns, "lcdm") == {"H0": 70.0, "recomb_method": "HS96"}
        assert not optimizer or ns.optimizer == "newton"
    # the same value under two spellings is not a conflict
    c = _parse(*command, "--set", "H0=70", "--H0", "70.0", "--optimize", "H0", "--params", "H0")
    assert cli_args.parameter_values(c, "lcdm") == {"H0": 70.0}


def test_plot_fit_aliases_and_store_flag_aliases():
    for flag in ("--fit", "--optimize", "--params"):
        ns = _parse("plot", "bao", "--datasets", "bao", flag, "H0", "--output", "x.png")
        assert cli_args.free_params(ns) == ["H0"]
    assert _parse("sample", "--datasets", "cmb", "--no-store").no_precomputed is True
    assert _parse("sample", "--datasets", "cmb", "--no-precomputed").no_precomputed is True
    assert _parse("fit-cmb", "--no-store").no_precomputed is True


@pytest.mark.parametrize("argv, first, second", [
    (["fit-cmb", "--set", "H0=70", "--H0", "71"], "--set H0=70", "--H0 71"),
    (["fit-cmb", "--H0", "71", "--set", "H0=70"], "--H0 71", "--set H0=70"),
    (["fit-cmb", "--H0", "71", "--H0", "72"], "--H0 71", "--H0 72"),
    (["fit-cmb", "--optimize", "H0", "--params", "Om0"], "--optimize H0", "--params Om0"),
    (["fit-cmb", "--optimizer", "minimize", "--method", "lbfgs"], "--optimizer minimize", "--method lbfgs"),
    (["fit-cmb", "--recomb-method", "HS96", "--set", "recomb_method=EH98"], "--recomb-method HS96",
     "--set recomb_method=EH98"),
    (["integrity", "--Om0", "0.3", "--set", "Om0=0.31"], "--Om0 0.3", "--set Om0=0.31"),
    (["sample", "--datasets", "cmb", "--params", "H0", "--optimize", "Om0"], "--params H0", "--optimize Om0"),
    (["mocks", "--datasets", "sn", "--params", "Om0", "--n", "2", "--set", "Om0=0.3", "--Om0", "0.4"],
     "--set Om0=0.3", "--Om0 0.4"),
    (["profile", "--datasets", "sn", "--params", "Om0", "--method", "lbfgs", "--optimizer", "newton"],
     "--method lbfgs", "--optimizer newton"),
    (["plot", "bao", "--datasets", "bao", "--fit", "H0", "--params", "Om0", "--output", "x.png"], "--fit H0",
     "--params Om0"),
])
def test_conflicting_values_exit_2_naming_both(run, argv, first, second):
    code, out, err = run(*argv)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "conflicting" in lines[0], err
    assert first in lines[0] and second in lines[0], lines[0]


def test_recomb_method_reaches_the_fit(run, fake_engine):
    code, _, err = run("fit-cmb", "--recomb-method", "HS96", "--optimize", "H0", "--dry-run")
    assert code == 0, err
    assert fake_engine[-1]["overrides"]["recomb_method"] == "HS96"
    code, _, err = run("fit-cmb", "--recomb-method", "nope")
    assert code == 2 and "invalid choice: 'nope'" in err and "CAMBFIT" in err
    code, _, err = run("fit-cmb", "--set", "recomb_method=nope")
    assert code == 2 and "unknown recomb_method 'nope'" in err and len(err.strip().splitlines()) == 1


def test_recomb_method_choices_are_the_registry(monkeypatch):
    from pbufjax.cosmology import recombination

    monkeypatch.setitem(recombination.RECOMBINATION_METHODS, "TESTFIT", recombination.RECOMBINATION_METHODS["HS96"])
    ns = _parse("fit-cmb", "--recomb-method", "TESTFIT")
    assert cli_args.parameter_values(ns, "lcdm") == {"recomb_method": "TESTFIT"}


def test_parameter_values_are_checked_against_the_model(run):
    code, _, err = run("sample", "--datasets", "cmb", "--params", "H0", "--k_sat", "1.0")
    assert code == 2 and "--k_sat: not a parameter of model 'lcdm'" in err
    code, _, err = run("profile", "--datasets", "sn", "--params", "Om0", "--grid", "Om0=0.2:0.4:3", "--set", "h=0.7")
    assert code == 2 and "'h' is not a parameter of model 'lcdm'" in err
    code, _, err = run("mocks", "--datasets", "sn", "--params", "Om0", "--n", "2", "--method", "minimize")
    assert code == 2 and "unknown batch optimizer 'minimize'; valid batch optimizers: lbfgs" in err
    code, _, err = run("sample", "--datasets", "cmb")
    assert code == 2 and "no free parameters given; pass --optimize" in err


def test_data_dir_is_passed_explicitly_and_the_environment_is_untouched(run, fake_engine, tmp_path, monkeypatch):
    monkeypatch.delenv("PBUFJAX_DATA_DIR", raising=False)
    folder = tmp_path / "data"
    folder.mkdir()
    code, _, err = run("fit-cmb", "--data-dir", folder)
    assert code == 0, err
    assert fake_engine[-1]["data_dir"] == folder.resolve() and fake_engine[-1]["env"] is None
    assert "PBUFJAX_DATA_DIR" not in os.environ
    code, _, err = run("fit-cmb")
    assert code == 0 and fake_engine[-1]["data_dir"] is None


def test_json_convention_is_the_runtime_one():
    from pbufjax.runtime import to_jsonable

    obj = {"chi2": float("inf"), "x": float("nan"), "n": [1.0, float("-inf")]}
    assert cli.jsonable(obj) == to_jsonable(obj) == {"chi2": "inf", "x": "nan", "n": [1.0, "-inf"]}


def test_cli_does_not_import_cli_sampling_and_help_stays_light(tmp_path):
    code = ("import sys; import pbufjax; from pbufjax.cli import main; main(['--help']); main(['sample', '--help']); "
            "bad = [m for m in ('pbufjax.cli_sampling', 'pbufjax.engine', 'pbufjax.fit', 'pbufjax.likelihood', "
            "'pbufjax.batch', 'pbufjax.sample', 'rich', 'matplotlib', 'numpyro') if m in sys.modules]; "
            "sys.stderr.write(repr(bad)); sys.exit(1 if bad else 0)")
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         check=False)
    assert res.returncode == 0, res.stderr[-2000:]
