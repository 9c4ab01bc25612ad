"""Process-level services shared by every layer: one JSON convention, one UTC clock, one cache owner.

Nothing here knows about cosmology; every other subpackage may import it.
"""

from .caches import clear_caches, register_cache, registered_caches
from .clock import parse_timestamp, utc_now
from .jsonio import dumps, from_jsonable, to_jsonable

__all__ = [
    "clear_caches",
    "dumps",
    "from_jsonable",
    "parse_timestamp",
    "register_cache",
    "registered_caches",
    "to_jsonable",
    "utc_now",
]
