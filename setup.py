"""What pyproject.toml cannot say: the sample models ship inside the package.

The one copy lives in the repository's top-level sample_models/ (the tests, the README
and make_samples.py use it there); the wheel maps it to regtui/sample_models/, so
`regtui demo` finds real samples wherever regtui is installed (pipx, uv tool).
Only the data folders are mapped: make_samples.py (a developer's script) stays out.
"""

from setuptools import find_packages, setup

SAMPLES = {
    "regtui.sample_models.runs": "sample_models/runs",
    "regtui.sample_models.hostile": "sample_models/hostile",
}

setup(
    packages=[*find_packages("src"), *SAMPLES],
    package_dir={"": "src", **SAMPLES},
)
