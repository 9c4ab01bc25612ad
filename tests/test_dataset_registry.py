"""One test over every registered dataset (built-in, and one registered at run time).

Each :class:`pbufjax.data.DatasetSpec` must load (skipped, with the reason, where a release
file is absent), validate, have an info record consistent with the loaded data, nuisance
parameters inside their bounds, a positive-definite covariance, and build a likelihood
whose χ² is finite at the model defaults (with whitened residuals reproducing it).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from pbufjax import data as D
from pbufjax.data import files as F
from pbufjax.likelihood import Block, build_likelihood

BUILTIN = list(D.dataset_specs())


def check_dataset(name: str, data_dir=None) -> None:
    """The checks every registered dataset passes."""
    spec = D.get_dataset_spec(name)
    assert spec.name == name and all(D.resolve_name(a) == name for a in spec.aliases)
    try:
        data = D.load_dataset(name, data_dir)
    except D.DataFileNotFoundError as e:
        pytest.skip(f"release file absent: {str(e).splitlines()[0]}")
    spec = D.get_dataset_spec(name)  # a bare-loader spec is completed by the load
    n = np.asarray(data["observations"]).size
    assert D.validate_dataset(data, spec.kind if spec.kind in D.DATASET_TYPES else name)
    # info record agrees with the spec and the loaded data
    info = D.get_dataset_info(name, data_dir)
    meta = data["metadata"]
    assert info["name"] == data["name"] == name
    assert info["dataset_type"] == spec.kind == meta["dataset_type"]
    assert info["n_points"] == n and info["available"] is True and info["missing"] == []
    if "n_points" in spec.metadata:
        assert spec.metadata["n_points"] == n
    if "redshift_range" in spec.metadata:
        np.testing.assert_allclose(spec.metadata["redshift_range"], meta["redshift_range"], rtol=1e-12)
    for k in ("survey", "citation", "arxiv", "description"):
        assert info[k] == spec.metadata.get(k) == meta.get(k), k
    # every release file is registered with a public URL (and a sha256 where one is published)
    table = F.release_files()
    for rel, digest in spec.file_hashes().items():
        if rel in table:
            assert table[rel]["url"].startswith("https://") and digest == table[rel]["sha256"]
    # overlaps name registered datasets
    assert all(o in D.dataset_specs() for o in spec.overlaps)
    # nuisance parameters: one definition, default inside the bounds
    nuis = D.nuisance_parameters([name])
    assert list(nuis) == [p.name for p in spec.nuisance]
    for p in spec.nuisance:
        assert p.bounds[0] < p.default < p.bounds[1] and p.description
    # covariance: symmetric positive definite
    cov = np.asarray(data["covariance"], np.float64)
    assert cov.shape == (n, n)
    assert np.linalg.eigvalsh(0.5 * (cov + cov.T))[0] > 0
    # a likelihood with finite χ² at the model defaults, and residuals reproducing it
    lik = build_likelihood("lcdm", [name], ["H0", "Om0", *nuis], data_dir=data_dir)
    theta = jnp.asarray(lik.theta0)
    chi2 = float(lik.chi2(theta))
    assert np.isfinite(chi2) and chi2 >= 0
    assert lik.has_residuals
    w, ok = lik.residuals_data(theta)
    assert bool(ok) and float(jnp.sum(w * w)) == pytest.approx(chi2, rel=1e-9)


@pytest.mark.parametrize("name", BUILTIN)
def test_every_registered_dataset(name):
    check_dataset(name)


def test_registry_has_one_record_per_dataset():
    specs = D.dataset_specs()
    assert set(specs) == set(D.list_datasets()) == set(D.DATASET_LOADERS)
    assert dict(D.ALIASES) == {a: s.name for s in specs.values() for a in s.aliases}
    # every dataset of the release-file table is registered, and reads those files
    for name, rels in F.registry()["datasets"].items():
        assert specs[name].files() == rels
    with pytest.raises(KeyError, match="valid datasets: planck2018_priors"):
        D.get_dataset_spec("no_such_data")
    assert D.nuisance_parameters(["sn", "pantheonplus_shoes"])["M_B"].bounds == (-21.0, -17.5)


def test_registration_errors():
    spec = D.get_dataset_spec("desi_dr2")
    with pytest.raises(ValueError, match="already registered"):
        D.register_dataset(spec)
    with pytest.raises(ValueError, match="already used"):
        D.register_dataset(D.DatasetSpec("other", "bao", spec.loader, aliases=("bao",)))
    with pytest.raises(ValueError, match="lower < default < upper"):
        D.DatasetSpec("x", "sn", spec.loader, nuisance=[("M", 0.0, (1.0, 2.0))])
    with pytest.raises(ValueError, match="unknown metadata key"):
        D.DatasetSpec("x", "sn", spec.loader, metadata={"n_pts": 3})
    with pytest.raises(ValueError, match="defined with other default"):
        D.register_dataset(D.DatasetSpec("x", "sn", spec.loader, nuisance=[("M_B", 0.0, (-1.0, 1.0))]))
    assert "x" not in D.dataset_specs()


# ---------------------------------------------------------------------------
# A dataset registered at run time, from small files the test writes (synthetic, only to
# exercise the loader handling), goes through the same checks
# ---------------------------------------------------------------------------

TOY_FILES = ("toy/toy_mean.txt", "toy/toy_cov.txt")


def _write_toy(root):
    (root / "toy").mkdir(parents=True)
    z = np.array([0.3, 0.6, 1.0])
    (root / TOY_FILES[0]).write_text("# z value quantity\n" + "".join(
        f"{zz} {v} DM_over_rs\n" for zz, v in zip(z, (8.0, 15.0, 23.0))))
    cov = np.diag([0.04, 0.09, 0.25]) + 0.01
    (root / TOY_FILES[1]).write_text("\n".join(" ".join(f"{x:.17g}" for x in row) for row in cov) + "\n")
    return z


def load_toy(data_dir=None, *, verify=True):
    paths = {rel: F.resolve(rel, data_dir, dataset="toy_bao") for rel in TOY_FILES}
    z, vals, qs = D.readers.read_bao_mean(paths[TOY_FILES[0]])
    cov = D.readers.read_matrix(paths[TOY_FILES[1]])
    meta = D.loaders.dataset_metadata("toy_bao", len(vals), (z.min(), z.max()), {k: str(v) for k, v in paths.items()})
    return {"name": "toy_bao", "observations": vals, "covariance": cov, "redshifts": z, "quantities": qs,
            "rd_fid": np.full(len(vals), np.nan), "labels": [f"{q}(z={x:g})" for q, x in zip(qs, z)], "metadata": meta}


@pytest.fixture
def toy_registered(tmp_path):
    _write_toy(tmp_path)
    D.register_dataset(D.DatasetSpec(
        "toy_bao", "bao", load_toy, aliases=("toy",), release_files=TOY_FILES, cacheable=True,
        metadata={"survey": "toy", "citation": "none (synthetic test file)", "arxiv": "-",
                  "description": "three D_M/r_d points", "n_points": 3, "redshift_range": [0.3, 1.0]},
        overlaps={"desi_dr2": "synthetic"}))
    try:
        yield tmp_path
    finally:
        D.unregister_dataset("toy_bao")
        D.clear_dataset_cache()


def test_dataset_registered_at_run_time_passes_the_same_checks(toy_registered):
    check_dataset("toy_bao", data_dir=toy_registered)
    assert D.dataset_overlaps(["toy", "bao"]) == ["toy_bao + desi_dr2: synthetic; their χ² are not independent"]
    info = D.get_dataset_info("toy", data_dir=toy_registered / "elsewhere")
    assert info["available"] is False and info["n_points"] == 3 and info["missing"] == list(TOY_FILES)


def test_bare_loader_gets_a_spec_from_its_data(toy_registered, monkeypatch):
    root = toy_registered

    def load_bare(data_dir):
        d = dict(load_toy(data_dir))
        d["name"] = "bare"
        d["metadata"] = {**d["metadata"], "name": "bare", "survey": "bare survey"}
        return d

    monkeypatch.setitem(D.DATASET_LOADERS, "bare", load_bare)
    assert D.get_dataset_spec("bare").kind is None
    check_dataset("bare", data_dir=root)
    spec = D.get_dataset_spec("bare")
    assert spec.kind == "bao" and spec.metadata["survey"] == "bare survey" and spec.metadata["n_points"] == 3
    monkeypatch.undo()
    assert "bare" not in D.dataset_specs()


def test_bare_loader_without_a_type_names_what_is_missing(toy_registered, monkeypatch):
    def load_untyped():
        d = load_toy(toy_registered)
        return {"observations": d["observations"], "covariance": d["covariance"], "metadata": {"n_points": 3}}

    monkeypatch.setitem(D.DATASET_LOADERS, "untyped", load_untyped)
    assert D.load_dataset("untyped")["name"] == "untyped"
    with pytest.raises(ValueError, match="dataset_type None.*register a Block subclass"):
        build_likelihood("lcdm", ["untyped"], ["H0"])


def test_user_kind_with_a_block_subclass_gets_residuals(toy_registered, monkeypatch):
    from pbufjax.likelihood import blocks

    class DMBlock(Block):  # D_M(z) [Mpc]: a kind the package does not know
        dataset_type = "dm_mpc"

        def __init__(self, data, scale=1.0):
            super().__init__(data, scale)
            self.z = np.asarray(data["redshifts"], np.float64)

        def z_dm(self):
            return self.z

        def predict(self, p, ctx):
            return ctx.dm(self), {}

    def load_dm(data_dir=None, *, verify=True):
        d = dict(load_toy(data_dir))
        d["observations"] = np.array([1200.0, 2200.0, 3400.0])
        d["covariance"] = np.diag([400.0, 900.0, 2500.0])
        d["name"], d["metadata"] = "toy_dm", D.loaders.dataset_metadata("toy_dm", 3, (0.3, 1.0))
        return d

    monkeypatch.setitem(blocks.BLOCK_TYPES, "dm_mpc", DMBlock)
    D.register_dataset(D.DatasetSpec("toy_dm", "dm_mpc", load_dm, release_files=TOY_FILES))
    try:
        check_dataset("toy_dm", data_dir=toy_registered)
        lik = build_likelihood("lcdm", ["toy_dm"], ["H0", "Om0"], data_dir=toy_registered)
        assert lik.fingerprint() is not None and lik.missing_residuals == ()
    finally:
        D.unregister_dataset("toy_dm")
