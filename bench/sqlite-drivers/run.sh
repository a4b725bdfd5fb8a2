#!/bin/sh
# Builds the benchmark once per driver and runs each in turn, both ops, printing one table.
# Usage: ./run.sh [flags passed to each binary, e.g. -duration 5s -dir /some/dir]
set -e
cd "$(dirname "$0")"
export GOFLAGS=-mod=mod
mkdir -p bin
built=""
for d in modernc mattn ncruces; do
	cgo=0
	[ "$d" = mattn ] && cgo=1
	if CGO_ENABLED=$cgo go build -tags "$d" -o "bin/$d" .; then
		built="$built $d"
	else
		echo "build of $d failed; skipping it" >&2
	fi
done
first=1
for d in $built; do
	if [ $first = 1 ]; then
		"bin/$d" -header -op both "$@"
		first=0
	else
		"bin/$d" -op both "$@"
	fi
done
