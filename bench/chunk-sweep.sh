#!/usr/bin/env bash
# Measure bulk_insert at several rows-per-statement for every contender that
# sends multi-row INSERTs (dal chooses its own; sqlx and the floor use COPY on
# PostgreSQL; the SQLite floor runs one prepared row at a time), and print the
# median rows/s per backend, contender and chunk. Sizes beyond a backend's
# bind limit (6 parameters a row: 5,461 rows on SQLite, 10,922 elsewhere)
# are capped to it by the harness. The best per contender and backend is
# written into `Backend::bulk_chunk` (bench/src/workloads.rs).
#
#   bench/chunk-sweep.sh [runs]      (from the repository root)
set -euo pipefail
runs="${1:-3}"
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/chunk-sweep"
mkdir -p "$out"
bin="${CARGO_TARGET_DIR:-$here/target}/release/dal-bench"
cargo build --release --manifest-path "$here/Cargo.toml"
for size in 500 1000 2000 5000 10000; do
    "$bin" --only bulk_insert --bulk-chunk "$size" --runs "$runs" \
        --contenders sqlx-pool,sqlx-conn,sea-orm,diesel,diesel-async,floor \
        --csv "$out/chunk-$size.csv" --svg "$out/chunk-$size.svg" > "$out/chunk-$size.txt" || echo "some cells FAILED at $size (see $out/chunk-$size.txt)"
done
# backend, contender, rows per statement, median rows/s
{
    echo "backend contender rows_per_statement median_rows_per_s"
    for f in "$out"/chunk-*.csv; do
        awk -F, '!/^#/ && $2 == "bulk_insert" && $15 ~ /^chunk/ {
            split($15, c, " "); print $1, $4, c[2], int($5) }' "$f"
    done | sort -k1,1 -k2,2 -k3,3n
} | column -t | tee "$out/summary.txt"
