"""Pure, jit/vmap/grad-able background cosmology kernels.

Public names: :func:`hubble` [km/s/Mpc], :func:`comoving_distance`,
:func:`comoving_transverse_distance`, :func:`angular_diameter_distance`,
:func:`luminosity_distance`, :func:`hubble_distance_z`,
:func:`volume_averaged_distance` [Mpc], :func:`distance_modulus`,
:func:`sound_horizon` [Mpc], :func:`derived` (z*, r*, θ*, D_M(z*), z_d, r_d, R, l_A),
:func:`z_star_and_drag`, times and volumes (:func:`age`, :func:`lookback_time` [Gyr],
:func:`conformal_time`, :func:`comoving_volume` [Gpc³], :func:`differential_comoving_volume`
[Mpc³/sr], :func:`last_scattering`), massive neutrinos (:mod:`.neutrinos`), the model registry :data:`MODELS`, and the parameter-dict
registry of :mod:`.parameters` (:data:`DEFAULTS`, :data:`OPTIMIZABLE_PARAMETERS`,
:func:`build_params`, :func:`get_defaults`, :func:`validate_params`, bounds).
"""
from .background import (  # noqa: F401
    angular_diameter_distance,
    comoving_distance,
    comoving_transverse_distance,
    distance_modulus,
    expansion_rate,
    hubble,
    hubble_distance,
    hubble_distance_z,
    luminosity_distance,
    sound_horizon,
    volume_averaged_distance,
)
from .cmb import DERIVED_KEYS, cmb_distance_priors, derived  # noqa: F401
from .models import MODELS, Model, densities, e2, get_model, register_model  # noqa: F401
from .parameters import (  # noqa: F401
    DEFAULTS,
    DERIVED_PARAMS,
    METADATA_KEYS,
    OPTIMIZABLE_PARAMETERS,
    STATIC_PARAMS,
    available_models,
    build_params,
    derived_params,
    get_bounds,
    get_defaults,
    get_optimization_bounds,
    log_space_params,
    model_for,
    optimizable_parameters,
    validate_free_params,
    validate_params,
)
from .neutrinos import STANDARD_NEFF, density_ratio  # noqa: F401
from .recombination import DEFAULT_METHOD, RECOMBINATION_METHODS, z_star_and_drag  # noqa: F401
from .times import (  # noqa: F401
    age,
    comoving_distance_to_last_scattering,
    comoving_volume,
    conformal_time,
    differential_comoving_volume,
    hubble_time,
    last_scattering,
    lookback_time,
)
