"""Print the exact (module, qualname) pairs of classes (and Cython unpickle helpers)
defined in sklearn and scipy.sparse: what their pickles name. Re-exports are left out
(a class counts only in the module that defines it)."""
import importlib, pkgutil, sys, inspect, warnings
warnings.simplefilter("ignore")
SKIP = ("tests", "testing", "_testing", "externals", "_build_utils", "conftest", "_show_versions",
        "parallel", "_joblib", "fixes", "_openmp_helpers", "__check_build", "_config", "_distributor_init",
        "_lib", "_min_dependencies", "datasets", "experimental", "_array_api")
DENY = {"Parallel", "Memory", "TempMemmap"}
def walk(pkg):
    out = {}
    p = importlib.import_module(pkg)
    mods = [pkg] + [m.name for m in pkgutil.walk_packages(p.__path__, pkg + ".")]
    for name in mods:
        if any(part in SKIP for part in name.split(".")):
            continue
        try:
            mod = importlib.import_module(name)
        except Exception as e:
            print("skip", name, e, file=sys.stderr); continue
        got = []
        for attr, obj in sorted(vars(mod).items()):
            if attr in DENY: continue
            if inspect.isclass(obj) and obj.__module__ == name and obj.__qualname__ == attr:
                if issubclass(obj, BaseException): continue
                got.append(attr)
            elif attr.startswith("__pyx_unpickle_") or attr == "newObj":
                got.append(attr)
        if got:
            out[name] = got
    return out
res = {}
for pkg in sys.argv[1:]:
    res.update(walk(pkg))
n = sum(map(len, res.values()))
print(f"# {n} names in {len(res)} modules", file=sys.stderr)
for m, names in sorted(res.items()):
    print(f"    {m!r}: {' '.join(names)!r},")
