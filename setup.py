"""Build the optional compiled helpers; all package metadata lives in pyproject.toml.

`_walk` is segmentation's tree walk, `_scan` counts and tokenises the text of a page's blocks for
the features, `_trees` sums the classifier's trees over a page. All are optional: without a
compiler (or lxml's headers) the install still succeeds, segmentation falls back to its
pure-Python walk, the features to their NumPy scan and the classifier to its NumPy tree walk
(`scoring.PackedTrees`).
setuptools compiles the .pyx through Cython's build_ext, which the build requirements provide.
"""

import lxml
from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("noiseclf._walk", ["noiseclf/_walk.pyx"], include_dirs=lxml.get_include(), optional=True),
        Extension("noiseclf._trees", ["noiseclf/_trees.pyx"], optional=True),
        Extension("noiseclf._scan", ["noiseclf/_scan.pyx"], optional=True),
    ],
)
