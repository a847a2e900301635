#!/usr/bin/env bash
# Benchmarks the storefront's read paths with wrk against a release build.
#
#   bench/run.sh [sqlite|postgres] [PRODUCTS] [SECONDS]
#
# Seeds a fresh database with PRODUCTS demo products (default 10000), starts `shop serve`
# on 127.0.0.1:8099, and measures requests/s and p50/p99 latency of: a product list page
# (20 products with their category), a product by slug, and a search. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
db_kind=${1:-sqlite}
products=${2:-10000}
seconds=${3:-10}
connections=${BENCH_CONNECTIONS:-32}
port=8099
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"; [ -n "${pg_db:-}" ] && psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null' EXIT

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }
cargo build --release -q
bin=target/release/shop

case "$db_kind" in
  sqlite) url="sqlite://$work/bench.db?mode=rwc" ;;
  postgres)
    pg_db="shop_bench_$$"
    psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $pg_db" >/dev/null
    url="postgres://postgres@127.0.0.1:5432/$pg_db" ;;
  *) echo "usage: $0 [sqlite|postgres] [PRODUCTS] [SECONDS]"; exit 2 ;;
esac

export DATABASE_URL=$url SHOP_LISTEN=127.0.0.1:$port SHOP_LOG=warn SHOP_DB_MAX_CONNECTIONS=$connections
$bin seed-demo --products "$products" >/dev/null 2>&1
$bin serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

gql() { curl -sf "http://127.0.0.1:$port/graphql" -H 'content-type: application/json' -d "$1"; }
json_query() { python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1]}))' "$1"; }

# A product list page: 20 products with their category, as a storefront's grid shows it.
list='{ products(first: 20) { edges { cursor node { id name slug price { amount currencyCode } inStock category { name slug } } } pageInfo { hasNextPage endCursor } } }'
json_query "$list" > "$work/list.txt"

# Product pages by slug: 200 different slugs from the catalog.
gql "$(json_query '{ products(first: 100, sortKey: PRICE) { nodes { slug } } }')" |
  python3 -c 'import json,sys; [print(n["slug"]) for n in json.load(sys.stdin)["data"]["products"]["nodes"]]' > "$work/slugs"
gql "$(json_query '{ products(first: 100, sortKey: NAME) { nodes { slug } } }')" |
  python3 -c 'import json,sys; [print(n["slug"]) for n in json.load(sys.stdin)["data"]["products"]["nodes"]]' >> "$work/slugs"
while read -r slug; do
  json_query "{ product(slug: \"$slug\") { id name description sku price { amount currencyCode } stock imageUrls category { name parent { name } } } }"
done < "$work/slugs" > "$work/slug.txt"

# Searches: common and rare words, one and two terms, sorted by relevance.
for term in walnut laptop "steel lamp" premium "cotton shirt" tent "black oak desk" demo-000777 ceramic kettle; do
  json_query "{ products(first: 20, filter: { search: \"$term\" }, sortKey: RELEVANCE) { totalCount nodes { id name slug price { amount } } } }"
done > "$work/search.txt"

echo "shop bench: $db_kind, $products products, $connections connections, ${seconds}s each, $(nproc) cores"
for scenario in list slug search; do
  echo "$scenario:"
  BENCH_BODIES="$work/$scenario.txt" wrk -t2 -c"$connections" -d"${seconds}s" -s bench/graphql.lua "http://127.0.0.1:$port" | grep 'requests/s'
done
echo "server RSS after the runs: $(( $(awk '/VmRSS/ {print $2}' /proc/$server/status) / 1024 )) MiB"
