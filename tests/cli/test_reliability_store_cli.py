"""Issue 12 on the command line: a store that unconstrained fits cannot poison.

* A fit whose parameter ends at a bound or unconstrained records it in the history (flagged)
  but does not store it as a default; the closing message names it and says why.
* A stored value outside its valid range is ignored with one warning naming the file, and
  ``store repair`` quarantines it.
* Every command that reads or writes the store says where the store is (one stderr line).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from pbufjax import cli
from pbufjax.parameter import get_defaults
from pbufjax.store import OptimizedParameterStore, schema


class BoundEngine:
    """Stand-in for ``engine.run_fit``: the listed parameters end at their upper bound and unconstrained."""

    def __init__(self, at_bound=(), unconstrained=()):
        self.at_bound, self.unconstrained, self.calls = list(at_bound), list(unconstrained), []

    def run_fit(self, model, datasets_list, mode="joint", overrides=None, optimizer_config=None,
                optimization_params=None, *, data_dir=None):
        from pbufjax.parameter import get_optimization_bounds

        self.calls.append({"overrides": dict(overrides or {}), "optimization_params": optimization_params})
        free = list(optimization_params or [])
        params = {**get_defaults(model), **(overrides or {})}
        bounds = {p: list(get_optimization_bounds(model, p)) for p in free}
        for p in free:
            params[p] = bounds[p][1] if p in self.at_bound else params[p] * 1.01
        reached = [p for p in free if p in self.at_bound]
        unconstrained = [p for p in free if p in self.unconstrained]
        result = {
            "params": params,
            "results": {d: {"chi2": 1.5, "residuals": np.zeros(3)} for d in datasets_list},
            "metrics": {"total_chi2": 1.5, "aic": 9.0, "bic": 10.0, "dof": 3, "p_value": 0.5, "reduced_chi2": 0.5},
            "uncertainties": {p: 0.1 for p in free if p not in unconstrained},
            "diagnostics": {"unconstrained": unconstrained, "bounds_reached": reached},
        }
        if free:
            result["optimization"] = {"convergence_status": "success", "chi2_improvement": 2.0, "method": "minimize",
                                      "bounds": bounds, "bounds_reached": reached}
        return result


@pytest.fixture
def engine(monkeypatch):
    fake = BoundEngine(at_bound=["H0"], unconstrained=["H0"])
    from pbufjax.analysis import engine as engine_module

    monkeypatch.setattr(engine_module, "run_fit", fake.run_fit)
    return fake


# ---------------------------------------------------------------------------
# flagged parameters


def test_fit_keeps_a_parameter_at_its_bound_out_of_the_defaults(run, engine, tmp_path):
    """Before: H0 = 150 was stored and the next fit started from it."""
    code, out, err = run("fit-cmb", "--optimize", "H0,Om0")
    assert code == 0, err
    assert "stored Om0 as lcdm defaults" in out
    assert "not stored as lcdm defaults" in out and "H0 = 150 (at its upper bound 150, unconstrained)" in out
    store = OptimizedParameterStore(tmp_path / "store")
    assert store.get_stored_parameters("lcdm") == {"Om0": pytest.approx(0.315 * 1.01)}
    rec = store.get_optimization_history("lcdm")[-1]
    assert rec["final_values"]["H0"] == 150.0 and rec["flagged"] == {"H0": "at bound, unconstrained"}
    # the next fit starts from the model's H0, not from 150 (also with --warm-start)
    code, out, err = run("fit-cmb", "--optimize", "H0,Om0", "--warm-start", "--json")
    assert code == 0, err
    assert engine.calls[-1]["overrides"].get("H0") in (None, get_defaults("lcdm")["H0"])
    doc = json.loads(out)
    assert doc["run"]["starting_value_sources"].get("H0") is None
    assert doc["run"]["store"]["not_stored"]["H0"]["value"] == 150.0
    assert "not stored as lcdm defaults" in err and "H0 = 150" in err


def test_fit_with_every_parameter_flagged_stores_no_default(run, monkeypatch, tmp_path):
    fake = BoundEngine(unconstrained=["k_sat", "alpha"])
    from pbufjax.analysis import engine as engine_module

    monkeypatch.setattr(engine_module, "run_fit", fake.run_fit)
    code, out, err = run("fit-cmb", "--model", "pbuf", "--optimize", "k_sat,alpha")
    assert code == 0, err
    assert "store not updated: every optimized parameter ended at a bound or unconstrained" in out
    assert "k_sat = " in out and "(unconstrained)" in out
    store = OptimizedParameterStore(tmp_path / "store")
    assert store.get_stored_parameters("pbuf") == {}
    assert set(store.get_optimization_history("pbuf")[-1]["flagged"]) == {"k_sat", "alpha"}


def test_dry_run_says_what_would_not_be_stored(run, engine, tmp_path):
    code, out, err = run("fit-cmb", "--optimize", "H0,Om0", "--dry-run")
    assert code == 0, err
    assert "store not updated: dry run" in out and "would be recorded in the history only" in out
    assert not (tmp_path / "store").exists()


@pytest.mark.release_files("union3", "boss_dr12")
def test_sn_fit_does_not_poison_the_anisotropic_bao_fit(run, tmp_path):
    """The issue's case on the real engine: fit-sn drives H0 to its bound 150."""
    code, out, err = run("fit-sn", "--optimize", "H0,Om0", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["params"]["H0"] == pytest.approx(150.0) and "H0" in doc["diagnostics"]["bounds_reached"]
    assert "H0" in doc["run"]["store"]["not_stored"] and doc["run"]["store"]["values"].keys() == {"Om0"}
    store = OptimizedParameterStore(tmp_path / "store")
    assert "H0" not in store.get_stored_parameters("lcdm")
    assert store.get_optimization_history("lcdm")[-1]["final_values"]["H0"] == pytest.approx(150.0)
    args = cli.build_parser().parse_args(["fit-aniso", "--optimize", "H0,Om0"])
    settings = cli.resolve_fit_settings(args)
    assert settings["overrides"].get("H0", get_defaults("lcdm")["H0"]) != pytest.approx(150.0)
    assert settings["sources"].get("H0") != "store" and settings["sources"]["Om0"] == "store"


def test_cmb_step_of_the_workflow_does_not_store_unconstrained_pbuf_parameters(run, tmp_path):
    """The API reference's step 1: k_sat and alpha are not constrained by the CMB priors alone."""
    code, out, err = run("fit-cmb", "--model", "pbuf", "--optimize", "k_sat,alpha,H0,Om0")
    assert code == 0, err
    assert "not stored as pbuf defaults" in out and "k_sat" in out.split("not stored as pbuf defaults")[1]
    stored = OptimizedParameterStore(tmp_path / "store").get_stored_parameters("pbuf")
    assert "k_sat" not in stored and "alpha" not in stored


# ---------------------------------------------------------------------------
# stored values outside their valid range


def _bad_store(tmp_path, parameters: dict):
    folder = tmp_path / "store"
    folder.mkdir(exist_ok=True)
    doc = schema.model_doc("lcdm", "2025-01-01T00:00:00Z")
    doc["parameters"] = parameters
    path = folder / "lcdm_defaults.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("value, shown", [(-70, "-70"), (1e300, "1e+300"), ("fast", "'fast'")])
def test_fit_ignores_an_invalid_stored_value_with_one_warning(run, engine, tmp_path, value, shown):
    """Before: ``"H0": -70`` stopped every fit without naming the store; 1e300 was used silently."""
    path = _bad_store(tmp_path, {"H0": value, "Om0": 0.31})
    code, out, err = run("fit-cmb")
    assert code == 0, err
    assert engine.calls[-1]["overrides"] == {"Om0": 0.31}
    warnings = [ln for ln in err.splitlines() if "WARNING" in ln]
    assert len(warnings) == 1, err
    assert str(path) in warnings[0] and "H0" in warnings[0] and shown in warnings[0] and "[10, 200]" in warnings[0]
    # store repair reports and quarantines it; afterwards fits are quiet
    code, out, err = run("store", "repair")
    assert code == 0 and "quarantined lcdm H0" in out and "healthy" not in out
    kept = json.loads(path.read_text())
    assert kept["quarantined_parameters"]["H0"][0]["value"] == value and "H0" not in kept["parameters"]
    code, out, err = run("fit-cmb")
    assert code == 0 and "WARNING" not in err
    code, out, _ = run("store", "repair")
    assert "healthy" in out


def test_store_show_and_repair_json_report_invalid_values(run, tmp_path):
    _bad_store(tmp_path, {"H0": -70})
    code, out, _ = run("store", "show", "--json")
    assert code == 0 and "H0" in json.loads(out)["models"]["lcdm"]["ignored"]
    code, out, _ = run("store", "show")
    assert "ignored lcdm H0" in out
    code, out, _ = run("store", "repair", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["quarantined"][0]["parameter"] == "H0" and any("H0" in p for p in doc["problems"])


def test_invalid_combination_from_the_store_names_the_store(run, engine, tmp_path):
    _bad_store(tmp_path, {"Om0": 0.01, "Obh2": 0.09})  # each in range, but baryons exceed the matter
    code, _, err = run("fit-cmb")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "parameter store" in err and str(tmp_path / "store") in err and "--no-precomputed" in err


# ---------------------------------------------------------------------------
# where the store is


@pytest.mark.parametrize("argv", [
    ["store", "show"], ["store", "history"], ["store", "consistency"], ["store", "repair"],
    ["store", "export", "--output", "s.json"], ["fit-cmb"], ["fit-cmb", "--optimize", "Om0"],
    ["integrity", "--datasets", "cmb"],
])
def test_every_store_command_says_where_the_store_is(run, engine, tmp_path, argv):
    code, _, err = run(*argv)
    assert code == 0, err
    assert f"store: {tmp_path / 'store'}" in err.splitlines()[-1]
    code, _, err = run(*argv, "-q")
    assert code == 0 and "store: " not in err


def test_store_line_keeps_json_stdout_clean_and_shows_the_default_folder(run, monkeypatch, tmp_path):
    monkeypatch.delenv("PBUFJAX_STORE_DIR")
    code, out, err = run("store", "show", "--json")
    assert code == 0 and json.loads(out)["models"] == {}
    assert f"store: {tmp_path / 'optimization_results'}" in err


def test_a_usage_error_stays_one_line(run):
    code, _, err = run("store", "show", "--model", "lambda")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "store: " not in err


def test_commands_without_the_store_do_not_mention_it(run):
    code, _, err = run("data", "list", "--json")
    assert code == 0 and "store: " not in err


@pytest.mark.parametrize("extra, says", [([], True), (["--no-precomputed"], False)])
def test_sample_says_where_the_store_is_unless_it_skips_it(run, monkeypatch, tmp_path, extra, says):
    from pbufjax.inference import sampling

    def fake_sample_posterior(model, datasets, free, **kw):
        assert kw["use_store"] is (not extra)
        return {"summary": {p: {"mean": 1.0, "std": 0.1, "r_hat": 1.0} for p in free}, "timing": {"sampling": 0.1},
                "ess_per_second": 1.0, "diagnostics": {"num_divergences": 0}, "free_params": list(free)}

    monkeypatch.setattr(sampling, "sample_posterior", fake_sample_posterior)
    code, _, err = run("sample", "--datasets", "cmb", "--optimize", "H0,Om0", "--json", *extra)
    assert code == 0, err
    assert (f"store: {tmp_path / 'store'}" in err) is says
