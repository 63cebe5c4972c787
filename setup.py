"""Build the optional compiled helpers; all package metadata lives in pyproject.toml.

`_walk` is segmentation's tree walk, `_trees` sums the classifier's trees over a page. Both are
optional: without a compiler (or lxml's headers) the install still succeeds, segmentation falls
back to its pure-Python walk and the classifier to its NumPy tree walk (`scoring.PackedTrees`).
setuptools compiles the .pyx through Cython's build_ext, which the build requirements provide.
"""

import lxml
from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("noiseclf._walk", ["noiseclf/_walk.pyx"], include_dirs=lxml.get_include(), optional=True),
        Extension("noiseclf._trees", ["noiseclf/_trees.pyx"], optional=True),
    ],
)
