#!/usr/bin/env bash
# Throughput of sift run --workers 2 against sift-beam on prism, same
# machine, same input (every copyright paragraph and fortune), both with
# GOMAXPROCS=2; CPU (user + sys s), peak RSS and wall from /usr/bin/time.
#
#   beam/bench/throughput.sh            # both recipes
#   KEEP=1 beam/bench/throughput.sh     # keep the work directory
set -euo pipefail
cd "$(dirname "$0")/../.."
ip link set lo up 2>/dev/null || true
tmp=$(mktemp -d)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/sift" ./cmd/sift
(cd beam && go build -o "$tmp/sift-beam" ./cmd/sift-beam && go run ./bench/corpus "$tmp/in")
mb=$(du -cb "$tmp"/in/*.jsonl | tail -1 | cut -f1)
cat >"$tmp/rowlocal.yaml" <<'Y'
stages:
  - normalize: {}
  - length_filter: {unit: words, min: 5, max: 2000}
  - pii_redact: {}
Y
cat >"$tmp/dedup.yaml" <<'Y'
stages:
  - normalize: {}
  - length_filter: {unit: words, min: 5, max: 2000}
  - exact_dedup: {}
  - simhash_dedup: {}
  - pii_redact: {}
Y
printf '%-9s %-6s %8s %8s %9s %8s %8s\n' recipe engine cpu_s wall_s rss_mb rows_out rows/cpu_s
for r in rowlocal dedup; do
  for e in sift beam; do
    out="$tmp/out-$r-$e"
    if [ $e = sift ]; then
      cmd=("$tmp/sift" run "$tmp/$r.yaml" --workers 2 --quiet)
    else
      cmd=("$tmp/sift-beam" run "$tmp/$r.yaml" --runner=prism --workers 2)
    fi
    GOMAXPROCS=2 /usr/bin/time -o "$tmp/time" -f '%U %S %M %e' "${cmd[@]}" --input "$tmp/in" \
      --output "$out/out.jsonl" --rejects "$out/rejects.jsonl" --report "$out/report.json" 2>"$tmp/log" || { cat "$tmp/log"; exit 1; }
    read -r u s m w <"$tmp/time"
    rows=$(cat "$out"/out*.jsonl | wc -l)
    in=$(grep -m1 '"rows_in"' "$out/report.json" | tr -dc 0-9)
    awk -v r=$r -v e=$e -v u="$u" -v s="$s" -v m="$m" -v w="$w" -v o="$rows" -v n="$in" -v mb="$mb" \
      'BEGIN { c = u + s; printf "%-9s %-6s %8.2f %8.2f %9.0f %8d %8.0f  (%.1f MB/cpu_s, %d rows in)\n", r, e, c, w, m / 1024, o, n / c, mb / 1e6 / c, n }'
  done
  cmp <(cat "$tmp/out-$r-sift"/out*.jsonl | sort) <(cat "$tmp/out-$r-beam"/out*.jsonl | sort) >/dev/null \
    && echo "$r: output bytes identical after sorting" || echo "$r: outputs differ (see the README's SimHash rule)"
done
