#!/bin/bash
# Configure and build in the source tree (idempotent).  Extra arguments go
# to ./configure.  CFLAGS defaults to the strict CI set.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CFLAGS:=-O2 -g -Wall -Wextra -Werror}"
export CFLAGS
if [[ ! -x configure || configure.ac -nt configure ]]; then
    autoreconf -fi >/dev/null
fi
if [[ ! -f Makefile || configure -nt Makefile || -n ${FORCE_CONFIGURE:-} || $# -gt 0 ]]; then
    ./configure -q "$@"
fi
make -j"$(nproc)" >/dev/null
