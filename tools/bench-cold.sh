#!/usr/bin/env bash
# Measures the README's two commands as a new user meets them: a fresh clone
# of this checkout's HEAD in a temporary directory, empty Go build and module
# caches (modules from the proxy), then `make plan` and `make test` step by
# step. Prints each step's wall time and the peak memory of its largest
# process, then the totals. Usage:
#
#	tools/bench-cold.sh                 # temp caches, removed afterwards
#	BENCH_GOCACHE=dir BENCH_GOMODCACHE=dir tools/bench-cold.sh
#	                                    # given caches (kept), e.g. the real
#	                                    # ones on a fresh machine, to warm them
#	BENCH_KEEP=1 tools/bench-cold.sh    # keep the clone and the temp caches
#
# The steps are the Makefile's own targets in the order `make plan` and
# `make test` reach them; the final `make test` and `make plan` must then be
# no-ops for the build (they prove the two commands pass as a whole).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/bench-cold.XXXXXX)
export GOCACHE=${BENCH_GOCACHE:-$work/gocache}
export GOMODCACHE=${BENCH_GOMODCACHE:-$work/gomodcache}
export GOFLAGS=${GOFLAGS:-}
cleanup() {
	if [ -z "${BENCH_KEEP:-}" ]; then
		chmod -R u+w "$work" 2>/dev/null || true
		rm -rf "$work"
	fi
}
trap cleanup EXIT
log=$work/steps.tsv
git clone --quiet --no-hardlinks "$src" "$work/clone"
cd "$work/clone"
echo "bench-cold: clone of $(git rev-parse --short HEAD) in $work/clone"
echo "bench-cold: GOCACHE=$GOCACHE GOMODCACHE=$GOMODCACHE"

# step NAME MAKE-ARGS...: runs make with the arguments, records wall seconds
# and the peak resident set of the largest process (GNU time's %M, KiB).
step() {
	local name=$1
	shift
	local file=${name//\//-}
	local out=$work/$file.log
	printf '%-34s ' "$name"
	if ! /usr/bin/time -o "$work/$file.time" -f '%e %M' make "$@" >"$out" 2>&1; then
		echo "FAILED (log: $out)"
		tail -30 "$out"
		BENCH_KEEP=1
		exit 1
	fi
	read -r secs kib <"$work/$file.time"
	printf '%7.1f s  %6d MiB\n' "$secs" $((kib / 1024))
	printf '%s\t%s\t%s\n' "$name" "$secs" "$kib" >>"$log"
}

start=$SECONDS
# make plan
step deps deps
step plan plan
plan_done=$SECONDS
# make test, in the order its prerequisites run
step lint lint
step cli bin/pulumi
for t in etcd kube-apiserver kube-controller-manager kube-scheduler kwok kwok-stages.yaml; do
	step "k8s/$t" "bin/k8s/$t"
done
step k8s-provider bin/build/k8sprovider/pulumi-resource-kubernetes
step test-unit test-unit
grep -E '^(ok|FAIL|---)' "$work/test-unit.log" | sed 's/^/    /' || true
step test-engine test-engine
grep -E '^(ok|FAIL)' "$work/test-engine.log" | sed 's/^/    /' || true
# The two commands as a whole, now that everything is built: both must pass.
step make-test test
step make-plan-again plan
end=$SECONDS
printf '\nmake plan (cold):              %5d s\n' $((plan_done - start))
printf 'make test (after make plan):   %5d s\n' $((end - plan_done))
printf 'both, fresh clone to green:    %5d s\n' $((end - start))
printf 'peak memory of one process:    %5d MiB\n' $(($(cut -f3 "$log" | sort -n | tail -1) / 1024))
