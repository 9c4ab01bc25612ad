"""NUTS on the posterior's log-density: one compiled program per sampler configuration.

:func:`sample_posterior` puts numpyro's NUTS (Hoffman & Gelman 2014, arXiv:1111.4246;
numpyro: Phan, Pradhan & Jankowiak 2019, arXiv:1912.11554) on
:meth:`pbufjax.inference.sampling.posterior.Posterior.log_density`.

Compiled once, run many times
-----------------------------
Initialization, warm-up (step size by dual averaging to ``target_accept_prob``, mass
matrix — dense by default — by windowed adaptation), sampling and the derived
quantities of every sample are one XLA program, compiled ahead of time and cached per
configuration; a second call with another seed, other fixed values or priors reuses it.
The reported sampling time excludes compilation (``timing["compile"]``).

Chains run ``"vectorized"`` (``vmap`` over chains: every chain waits for the longest
trajectory of the step, which pays on GPUs), ``"sequential"`` (``lax.map``, one chain after
the other inside the same program: on CPU as fast as vectorized for 4 chains, faster for
more, and it compiles ~2.5× faster) or ``"parallel"`` (chains sharded over the devices with
:mod:`pbufjax.inference.sharding`, e.g. the cores of a CPU split with
``XLA_FLAGS=--xla_force_host_platform_device_count=N``). ``"auto"`` (default) is sequential
on CPU and vectorized on accelerators (``documents/sampling_and_batch.md`` has the timings).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ...fit.merit import figure_of_merit_from_samples
from ...fit.transforms import from_unit
from ...runtime import register_cache
from ...runtime.compile_cache import enable_from_environment
from .. import sharding
from ..sharding import check_count
from .io import check_sample_path, save_samples, summarize
from .posterior import DERIVED_NAMES, Posterior, derived_quantities, log_density, z_to_theta

logger = logging.getLogger(__name__)

#: Ways to run several chains (``"auto"``: ``"sequential"`` on CPU, ``"vectorized"`` on accelerators).
CHAIN_METHODS = ("auto", "vectorized", "sequential", "parallel")

_SAMPLERS: dict = {}


def clear_cache() -> None:
    """Forget the compiled samplers."""
    _SAMPLERS.clear()


register_cache("inference.sampling", clear_cache)


class SamplerConfig(NamedTuple):
    """The static settings of a compiled sampler (its cache key, with the likelihood)."""

    num_warmup: int
    num_samples: int
    num_chains: int
    chain_method: str
    target_accept_prob: float
    dense_mass: bool
    max_tree_depth: int
    forward_mode: bool
    derived: bool
    progress_every: int
    n_devices: int


def build_program(post: Posterior, cfg: SamplerConfig, progress_cb) -> Any:
    """``run(keys, z0s, zc, args) -> dict`` of all chains (pure JAX, to be jitted).

    Each chain starts at its row of ``z0s`` (``zc`` where the density is zero there),
    warms up for ``num_warmup`` steps and keeps ``num_samples``; ``progress_cb(i)`` is
    called every ``progress_every`` steps when given.
    """
    import jax
    import jax.numpy as jnp
    from numpyro.infer.hmc import hmc

    chi2, idx, lik = post.chi2, post.free_index, post.problem.likelihood

    def potential_gen(a):
        return lambda z: -log_density(chi2, idx, z, a)

    init_kernel, sample_kernel = hmc(potential_fn_gen=potential_gen, algo="NUTS")
    total = cfg.num_warmup + cfg.num_samples

    def tick(i):
        if progress_cb is not None:
            jax.lax.cond((i + 1) % cfg.progress_every == 0,
                         lambda: jax.debug.callback(progress_cb, i + 1), lambda: None)

    def one_chain(key, z0, zc, a):
        ok = jnp.isfinite(log_density(chi2, idx, z0, a))
        z0 = jnp.where(ok, z0, zc)
        st = init_kernel(z0, cfg.num_warmup, dense_mass=cfg.dense_mass, target_accept_prob=cfg.target_accept_prob,
                         max_tree_depth=cfg.max_tree_depth, forward_mode_differentiation=cfg.forward_mode,
                         model_args=(a,), rng_key=key)

        def warm(i, s):
            tick(i)
            return sample_kernel(s, model_args=(a,))

        st = jax.lax.fori_loop(0, cfg.num_warmup, warm, st)

        def step(s, i):
            tick(i)
            s = sample_kernel(s, model_args=(a,))
            return s, (s.z, s.potential_energy, s.num_steps, s.accept_prob, s.diverging)

        last, (z, pe, nsteps, acc, div) = jax.lax.scan(step, st, jnp.arange(cfg.num_warmup, total))
        theta = z_to_theta(z, a)
        out = {"theta": theta, "potential_energy": pe, "num_steps": nsteps, "accept_prob": acc, "diverging": div,
               "step_size": last.adapt_state.step_size, "inverse_mass_matrix": last.adapt_state.inverse_mass_matrix}
        if cfg.derived:
            out["derived"] = jax.vmap(lambda t: derived_quantities(lik, idx, t, a.aux))(theta)
        return out

    if cfg.chain_method == "sequential":
        def run(keys, z0s, zc, a):
            return jax.lax.map(lambda kz: one_chain(kz[0], kz[1], zc, a), (keys, z0s))
    else:
        def run(keys, z0s, zc, a):
            return jax.vmap(one_chain, in_axes=(0, 0, None, None))(keys, z0s, zc, a)
    return run


def start_point(post: Posterior, init_params, use_store: bool, store_dir) -> tuple[np.ndarray, str]:
    """Centre of the chains' starting points (physical) and where it came from."""
    x = post.problem.x0.copy()
    source = "model defaults / overrides"
    if init_params is not None:
        if not isinstance(init_params, Mapping):
            raise TypeError(f"init_params must be a dict name -> value, got {type(init_params).__name__}")
        for k, v in init_params.items():
            if k not in post.names:
                raise ValueError(f"init_params gives {k!r}, which is not sampled; sampled parameters: "
                                 f"{', '.join(post.names)}")
            x[post.names.index(k)] = float(v)
        source = "init_params"
    elif use_store:
        try:
            from ...store import OptimizedParameterStore

            stored = OptimizedParameterStore(store_dir).get_stored_parameters(post.model)
        except Exception as exc:  # noqa: BLE001 - a broken store must not stop sampling
            logger.warning("parameter store not used for the starting point: %s", exc)
            stored = {}
        used = [k for k in post.names if k in stored]
        for k in used:
            x[post.names.index(k)] = float(stored[k])
        if used:
            source = f"parameter store ({', '.join(used)})"
    inside = (x > post.lower) & (x < post.upper)
    if not np.all(inside):
        bad = [k for k, ok in zip(post.names, inside) if not ok]
        logger.warning("starting values of %s are outside the prior range; using the range centre", bad)
        mid = from_unit(np.full(post.n, 0.5), post.lower, post.upper, post.log_mask)
        x = np.where(inside, x, mid)
    return x, source


class _ProgressBar:
    def __init__(self, total: int, desc: str):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc=desc, leave=True)

    def __call__(self, i):
        i = int(np.max(np.asarray(i)))
        if i > self.bar.n:
            self.bar.update(i - self.bar.n)

    def close(self):
        self.bar.close()


def _check_settings(num_samples, num_warmup, num_chains, max_tree_depth, chain_method, target_accept_prob,
                    init_spread, seed) -> tuple[int, int, int, int]:
    out = (check_count("num_samples", num_samples, 1), check_count("num_warmup", num_warmup, 0),
           check_count("num_chains", num_chains, 1), check_count("max_tree_depth", max_tree_depth, 1))
    if not isinstance(chain_method, str) or chain_method not in CHAIN_METHODS:
        raise ValueError(f"unknown chain_method {chain_method!r}; valid: {', '.join(CHAIN_METHODS)}")
    if isinstance(target_accept_prob, bool) or not isinstance(target_accept_prob, (int, float)) \
            or not 0.0 < float(target_accept_prob) < 1.0:
        raise ValueError(f"target_accept_prob must be in (0, 1), got {target_accept_prob!r}")
    if isinstance(init_spread, bool) or not isinstance(init_spread, (int, float)) or not init_spread >= 0:
        raise ValueError(f"init_spread must be a number >= 0, got {init_spread!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__} ({seed!r})")
    return out


def _chain_layout(chain_method: str, num_chains: int, devices) -> tuple[str, int, Any]:
    """``(chain_method, n_devices, mesh or None)`` with ``"auto"`` resolved and the devices checked."""
    import jax

    if chain_method == "auto":
        chain_method = "sequential" if jax.default_backend() == "cpu" else "vectorized"
    if chain_method != "parallel":
        if devices is not None:
            sharding.resolve_devices(devices)  # validate
        return chain_method, 1, None
    devs = sharding.resolve_devices(devices)
    if num_chains % len(devs):
        raise ValueError(f"chain_method='parallel' needs num_chains ({num_chains}) to be a multiple of the "
                         f"number of devices ({len(devs)}); valid num_chains: multiples of {len(devs)}")
    return chain_method, len(devs), (sharding.batch_mesh(devs) if len(devs) > 1 else None)


def _compiled_sampler(post: Posterior, cfg: SamplerConfig, inputs, bar, progress_bar: bool):
    """The compiled program of ``cfg`` (cached per likelihood and configuration; never with a
    progress bar, whose callback is baked into the program)."""
    import jax

    key = (id(post.problem.likelihood), tuple(post.names), tuple(post.log_mask), cfg, progress_bar)
    hit = _SAMPLERS.get(key)
    if hit is not None and hit[0] is post.problem.likelihood and not progress_bar:
        return hit[1]
    compiled = jax.jit(build_program(post, cfg, bar)).lower(*inputs).compile()
    if not progress_bar:
        _SAMPLERS[key] = (post.problem.likelihood, compiled)
    return compiled


def sample_posterior(model: str, datasets_list, free_params: Sequence[str] | str, *, overrides=None,
                     num_samples: int = 2000, num_warmup: int = 1000, num_chains: int = 4, seed: int = 0,
                     priors: Mapping | None = None, bounds: Mapping | None = None, covariance_scaling: float = 1.0,
                     target_accept_prob: float = 0.8, dense_mass: bool = True, max_tree_depth: int = 10,
                     chain_method: str = "auto", init_params: Mapping | None = None,
                     init_spread: float = 0.1, use_store: bool = True, store_dir=None, derived: bool = True,
                     forward_mode: bool | None = None, progress_bar: bool = False, devices=None,
                     output: str | Path | None = None, data_dir=None) -> dict[str, Any]:
    """Sample the posterior of ``free_params`` with NUTS (numpyro) on the compiled χ².

    Args:
        model: model name.
        datasets_list: dataset names or aliases.
        free_params: sampled parameters.
        overrides: fixed parameter values (e.g. ``{"Obh2": 0.02237}``).
        num_samples: samples kept per chain (≥ 1).
        num_warmup: warm-up (adaptation) iterations per chain (≥ 0).
        num_chains: number of chains (≥ 1).
        seed: random seed.
        priors: Gaussian priors / uniform ranges (see :class:`Posterior`).
        bounds: replacement optimization bounds (the default uniform prior ranges).
        covariance_scaling: :math:`s` in :math:`C \\to sC`.
        target_accept_prob: dual-averaging target (0 < p < 1).
        dense_mass: adapt a dense (True) or diagonal mass matrix.
        max_tree_depth: NUTS tree-depth limit.
        chain_method: ``"auto"`` (sequential on CPU, vectorized on accelerators),
            ``"vectorized"``, ``"sequential"`` or ``"parallel"`` (:data:`CHAIN_METHODS`).
        init_params: centre of the chains' starting points (default: the values stored
            in the parameter store for ``model`` when ``use_store``, else the model
            defaults/overrides). Each chain starts at the centre plus ``init_spread``
            times a standard normal in :math:`z`.
        init_spread: dispersion of the starting points in unconstrained units.
        use_store: start from the stored best fit when one exists.
        store_dir: parameter-store folder (default ``$PBUFJAX_STORE_DIR`` or
            ``./optimization_results``).
        derived: also return the derived quantities (:data:`DERIVED_NAMES`).
        forward_mode: gradients by forward-mode differentiation (default: when ≤ 4
            parameters, where it is faster).
        progress_bar: show a progress bar (stderr).
        devices: devices for ``chain_method="parallel"`` (:func:`pbufjax.sharding.resolve_devices`).
        output: save the result there (``.npz``, or ``.nc`` through arviz) with :func:`save_samples`.
        data_dir: folder of the data files (default: the package's search path).

    Returns:
        ``{"samples": {name: array[num_chains·num_samples]} (free and derived),
        "chains": {name: array (num_chains, num_samples)}, "summary": {name: {"mean",
        "std", "median", "q16", "q84", "q025", "q975", "r_hat", "ess"}}, "free_params",
        "derived_params", "model", "datasets", "priors", "diagnostics" (divergences,
        mean acceptance, mean leapfrog steps, step sizes, inverse mass matrices),
        "init" (starting points and their source), "timing" ({"compile", "sampling",
        "total"} [s]), "ess_per_second" (smallest ESS of the free parameters per second
        of sampling), "figure_of_merit" (DETF :math:`1/\\sqrt{\\det \\mathrm{Cov}(w_0, w_a)}` of the
        chain, :func:`pbufjax.fit.merit.figure_of_merit`; None unless w0 and wa are free), "config"}``.

    Raises:
        ValueError: ``num_samples < 1``, ``num_warmup < 0``, ``num_chains < 1``, an
            unknown chain method, a parameter not in the model, bad priors, more
            devices than exist, or a posterior that is zero at every start.
        KeyError: unknown dataset.
        TypeError: wrong argument types.
        ImportError: ``output`` ending in ``.nc`` without arviz (checked before sampling).

    Example:
        >>> r = sample_posterior("lcdm", ["desi_dr2"], ["H0", "Om0"], overrides={"Obh2": 0.02237},
        ...                      num_samples=1000, num_warmup=500, num_chains=4, seed=0)  # doctest: +SKIP
        >>> r["summary"]["Om0"]["mean"], r["summary"]["h_rd"]["std"]                    # doctest: +SKIP
    """
    import jax
    import jax.numpy as jnp

    if output is not None:
        check_sample_path(output)  # before any work: a wrong extension must not cost a whole run
    enable_from_environment()  # a second process reuses the compiled programs
    t_start = time.perf_counter()
    num_samples, num_warmup, num_chains, max_tree_depth = _check_settings(
        num_samples, num_warmup, num_chains, max_tree_depth, chain_method, target_accept_prob, init_spread, seed)
    post = Posterior(model, datasets_list, free_params, overrides=overrides, priors=priors, bounds=bounds,
                     covariance_scaling=covariance_scaling, data_dir=data_dir)
    chain_method, n_devices, mesh = _chain_layout(chain_method, num_chains, devices)
    if forward_mode is None:
        forward_mode = post.n <= 4
    total = num_warmup + num_samples
    cfg = SamplerConfig(num_warmup, num_samples, num_chains, chain_method, float(target_accept_prob),
                        bool(dense_mass), max_tree_depth, bool(forward_mode), bool(derived),
                        max(total // 50, 1) if progress_bar else 0, n_devices)

    # starting points
    x_c, init_source = start_point(post, init_params, use_store, store_dir)
    zc = post.to_unconstrained(x_c)
    rng = np.random.default_rng([int(seed), 104729])
    z0 = zc[None, :] + float(init_spread) * rng.standard_normal((num_chains, post.n))
    keys = jax.random.split(jax.random.PRNGKey(int(seed)), num_chains)

    bar = _ProgressBar(total, f"NUTS {model}") if progress_bar else None
    t0 = time.perf_counter()
    inputs = (keys, jnp.asarray(z0), jnp.asarray(zc), post.args)
    if mesh is not None:
        inputs = (*sharding.shard_batch((keys, jnp.asarray(z0)), mesh),
                  *sharding.replicate((jnp.asarray(zc), post.args), mesh))
    compiled = _compiled_sampler(post, cfg, inputs, bar, progress_bar)
    t_compile = time.perf_counter() - t0
    t1 = time.perf_counter()
    try:
        out = jax.block_until_ready(compiled(*inputs))
    finally:
        if bar is not None:
            bar.close()
    t_sample = time.perf_counter() - t1
    out = jax.tree.map(np.asarray, out)
    if not np.any(np.isfinite(out["potential_energy"])):
        raise ValueError(f"the posterior is zero (χ² not finite) at every sample; starting point {x_c.tolist()} "
                         f"({init_source}) — give init_params inside the physical region")
    result = _result(post, cfg, out, seed=int(seed), covariance_scaling=float(covariance_scaling))
    min_ess = min(result["summary"][k]["ess"] for k in post.names)
    result.update(init={"source": init_source, "center": dict(zip(post.names, x_c.tolist())),
                        "points": post.to_physical(z0)},
                  timing={"compile": t_compile, "sampling": t_sample, "total": time.perf_counter() - t_start},
                  ess_per_second=float(min_ess / t_sample) if t_sample > 0 else float("nan"),
                  config=result.pop("config"))
    logger.info("NUTS %s on %s: %d×%d samples in %.2f s (compile %.2f s), min ESS %.0f, %.0f ESS/s", model,
                ",".join(post.problem.datasets), num_chains, num_samples, t_sample, t_compile, min_ess,
                result["ess_per_second"])
    if output is not None:
        save_samples(result, output)
    return result


def _result(post: Posterior, cfg: SamplerConfig, out: Mapping, *, seed: int, covariance_scaling: float) -> dict:
    """The result dict of :func:`sample_posterior` (without ``init``, ``timing``, ``ess_per_second``)."""
    theta = out["theta"]  # (C, S, k)
    chains = {k: theta[:, :, i] for i, k in enumerate(post.names)}
    derived_names: list[str] = []
    if cfg.derived:
        for k in DERIVED_NAMES:
            if k not in post.names:
                chains[k] = out["derived"][k]
                derived_names.append(k)
    summary = summarize(chains)
    n_div = int(np.sum(out["diverging"]))
    if n_div:
        logger.warning("%d divergent transitions after warm-up (raise target_accept_prob)", n_div)
    worst = max(summary[k]["r_hat"] for k in post.names)
    if cfg.num_chains > 1 and math.isfinite(worst) and worst > 1.01:
        logger.warning("r_hat up to %.4f > 1.01: chains not converged (more warm-up or samples)", worst)
    return {
        "samples": {k: v.reshape(-1) for k, v in chains.items()},
        "chains": chains,
        "summary": summary,
        "free_params": list(post.names),
        "derived_params": derived_names,
        "model": post.model,
        "datasets": list(post.problem.datasets),
        "fixed_params": {k: v for k, v in post.problem.values().items() if k not in post.names},
        "priors": post.priors,
        "figure_of_merit": figure_of_merit_from_samples(chains),
        "diagnostics": {
            "num_divergences": n_div,
            "accept_prob_mean": float(np.mean(out["accept_prob"])),
            "num_steps_mean": float(np.mean(out["num_steps"])),
            "step_size": np.asarray(out["step_size"]).tolist(),
            "inverse_mass_matrix": np.asarray(out["inverse_mass_matrix"]),
            "potential_energy": out["potential_energy"],
        },
        "config": {"num_samples": cfg.num_samples, "num_warmup": cfg.num_warmup, "num_chains": cfg.num_chains,
                   "seed": seed, "chain_method": cfg.chain_method, "target_accept_prob": cfg.target_accept_prob,
                   "dense_mass": cfg.dense_mass, "max_tree_depth": cfg.max_tree_depth,
                   "forward_mode": cfg.forward_mode, "covariance_scaling": covariance_scaling,
                   "n_devices": cfg.n_devices},
    }


__all__ = ["CHAIN_METHODS", "SamplerConfig", "build_program", "clear_cache", "sample_posterior", "start_point"]
