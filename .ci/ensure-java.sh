#!/bin/sh
# Make sure a Java runtime works (the Spark tests need one): when `java -version` fails, install
# Debian's default-jre-headless with apt-get. Idempotent and quiet; apt's output is shown only when
# the install fails. Exits non-zero when no Java could be made to work.
set -eu

if java -version >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-java: java does not work and apt-get is not available; install a Java runtime (17+)" >&2
    exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Slim Debian images drop /usr/share/man, and the JRE's postinst fails without its man1 folder.
$sudo mkdir -p /usr/share/man/man1
if ! { $sudo apt-get update -qq &&
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
          default-jre-headless; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "ensure-java: installing default-jre-headless failed" >&2
    exit 1
fi
hash -r
if ! java -version >/dev/null 2>&1; then
    echo "ensure-java: default-jre-headless is installed but java -version still fails" >&2
    exit 1
fi
