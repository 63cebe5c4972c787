"""Build the optional compiled helpers; all package metadata lives in pyproject.toml.

`_walk` is segmentation's tree walk, `_scan` counts and tokenises the text of a page's blocks for
the features, `_trees` sums the classifier's trees over a page, and `_shipped_trees` holds the shipped
models' trees as generated C (written here by `noiseclf/_treegen.py` from `artifacts/*.trees.npz`).
All are optional: without a compiler (or lxml's headers) the install still succeeds, segmentation
falls back to its pure-Python walk, the features to their NumPy scan and the classifier to its table
walk or its NumPy tree walk (`scoring.PackedTrees`), with the same results.
setuptools compiles the .pyx through Cython's build_ext, which the build requirements provide.
"""

import importlib.util
from pathlib import Path

import lxml
from setuptools import Extension, setup

HERE = Path(__file__).parent


def _shipped_trees() -> list[Extension]:
    """The extension of the shipped models' trees, its source generated from the model files."""
    spec = importlib.util.spec_from_file_location("_treegen", HERE / "noiseclf" / "_treegen.py")
    treegen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(treegen)
    models = sorted((HERE / "artifacts").glob("default-*.trees.npz"))
    source = treegen.write_module(models, HERE / "noiseclf")
    if source is None:
        return []
    # plain optimisation and no debug information: the trees are some 15 MB of C
    return [Extension(f"noiseclf.{treegen.MODULE}", [str(source.relative_to(HERE))], include_dirs=["noiseclf"],
                      extra_compile_args=["-O1", "-g0"], optional=True)]


setup(
    ext_modules=[
        Extension("noiseclf._walk", ["noiseclf/_walk.pyx"], include_dirs=lxml.get_include(), optional=True),
        Extension("noiseclf._trees", ["noiseclf/_trees.pyx"], optional=True),
        Extension("noiseclf._scan", ["noiseclf/_scan.pyx"], optional=True),
        *_shipped_trees(),
    ],
)
