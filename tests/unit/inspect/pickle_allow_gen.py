"""Print the exact (module, qualname) pairs of classes (and Cython unpickle helpers)
defined in scikit-learn and scipy.sparse, for `regtui.inspect.pickle_allow`.

Run with the packages importable: `python tests/unit/inspect/pickle_allow_gen.py sklearn
scipy.sparse`. A class counts only in the module that defines it (re-exports are left
out), and modules for tests, vendored code or parallel execution are skipped."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import warnings

SKIP = ("tests", "testing", "_testing", "externals", "_build_utils", "conftest",
        "_show_versions", "parallel", "_joblib", "fixes", "_openmp_helpers", "__check_build",
        "_config", "_distributor_init", "_lib", "_min_dependencies", "datasets", "experimental",
        "_array_api")  # fmt: skip
DENY = {"Parallel", "Memory", "TempMemmap"}


def walk(pkg: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    root = importlib.import_module(pkg)
    mods = [pkg] + [m.name for m in pkgutil.walk_packages(root.__path__, pkg + ".")]
    for name in mods:
        if any(part in SKIP for part in name.split(".")):
            continue
        try:
            mod = importlib.import_module(name)
        except Exception as exc:
            print("skip", name, exc, file=sys.stderr)
            continue
        got = []
        for attr, obj in sorted(vars(mod).items()):
            if attr in DENY:
                continue
            if inspect.isclass(obj) and obj.__module__ == name and obj.__qualname__ == attr:
                if not issubclass(obj, BaseException):
                    got.append(attr)
            elif attr.startswith("__pyx_unpickle_") or attr == "newObj":
                got.append(attr)
        if got:
            out[name] = got
    return out


def main() -> None:
    warnings.simplefilter("ignore")
    found: dict[str, list[str]] = {}
    for pkg in sys.argv[1:]:
        found.update(walk(pkg))
    for module, names in sorted(found.items()):
        print(f"    {module!r}: {' '.join(names)!r},")


if __name__ == "__main__":
    main()
