"""Build the optional compiled tree walk; all package metadata lives in pyproject.toml.

The extension is optional: without a compiler (or lxml's headers) the install still succeeds
and segmentation falls back to its pure-Python walk. setuptools compiles the .pyx through
Cython's build_ext, which the build requirements provide.
"""

import lxml
from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("noiseclf._walk", ["noiseclf/_walk.pyx"], include_dirs=lxml.get_include(), optional=True),
    ],
)
