#!/usr/bin/env bash
# Times `make test` as a developer meets it, on this machine:
#   warm:             build cache and test cache warm, nothing changed since
#                     the last run (the engine suite still runs: -count=1);
#   test cache clear: build cache warm, every test re-linked and re-run, as
#                     after a change to a package every test depends on.
# A truly cold run (empty GOCACHE) recompiles the provider SDKs (about 7 min
# for make plan, then the test binaries); it is measured by hand, see README.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds() { local start=$SECONDS; "$@" > /dev/null 2>&1; echo $((SECONDS - start)); }
make test > /dev/null 2>&1 # prime both caches
warm=$(seconds make test)
go clean -testcache
cleared=$(seconds make test)
printf 'make test, warm (nothing changed):  %4ds\n' "$warm"
printf 'make test, test cache cleared:      %4ds\n' "$cleared"
