"""Write tests/data/public_names.json: every public name each pbufjax module offered before the redesign.

Run once on the pre-redesign tree (``python tests/data/make_public_names.py``); the list is the
compatibility contract ``tests/test_public_names.py`` holds every later tree to. A name counts as public
when it is in the module's ``__all__``, or does not start with ``_`` and is defined in pbufjax (a function,
class or registry of the package) or is a plain constant (number, string, tuple, dict, frozenset).
"""
import importlib
import json
import numbers
import pkgutil
import types
from pathlib import Path

import pbufjax

PLAIN = (numbers.Number, str, bytes, tuple, list, dict, frozenset, set, type(None))


def public(mod):
    names = set(getattr(mod, "__all__", ()))
    for name, obj in vars(mod).items():
        if name.startswith("_") or isinstance(obj, types.ModuleType):
            continue
        home = getattr(obj, "__module__", None)
        if isinstance(obj, PLAIN) and not callable(obj):
            names.add(name)
        elif isinstance(home, str) and home.startswith("pbufjax"):
            names.add(name)
    return sorted(names)


def main():
    mods = ["pbufjax"] + sorted(m.name for m in pkgutil.walk_packages(pbufjax.__path__, "pbufjax."))
    out = {}
    for name in mods:
        if name.endswith("__main__"):
            continue
        mod = importlib.import_module(name)
        out[name] = public(mod)
    out["pbufjax"] = sorted(set(out["pbufjax"]) | set(getattr(pbufjax, "_LAZY", {})))
    path = Path(__file__).with_name("public_names.json")
    path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(path, sum(len(v) for v in out.values()), "names in", len(out), "modules")


if __name__ == "__main__":
    main()
