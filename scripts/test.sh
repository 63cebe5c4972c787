#!/usr/bin/env bash
# Install noiseclf with every extra (peers, Scrapy, Spark, notebook) and run the whole test suite.
# Quality floors on the real corpora run when ../shared/data exists; Spark needs Java (installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e ".[all]"
if [ -f .ci/ensure-java.sh ]; then bash .ci/ensure-java.sh; fi
python -m pytest -q -p no:cacheprovider "$@"
