#!/usr/bin/env bash
# Benchmarks the storefront's read paths with wrk against a release build.
#
#   bench/run.sh [sqlite|postgres] [PRODUCTS] [SECONDS]
#
# Seeds a fresh database with PRODUCTS demo products (default 10000), starts `shop serve`
# on 127.0.0.1:8099, and measures requests/s and p50/p99 latency of: the `{ __typename }`
# floor, a product list page (20 products with their category), the same page from the
# hand-written axum + SQL handler of bench/baseline (the yardstick) and from the bare
# async-graphql + sea-orm server there (the second yardstick), a product by slug, a
# search, add-to-cart, checkout (each request adds a unit to a cart and buys it: one order
# per request; every buyer the same product, then buyers spread over many), and
# `{ __typename }` again while 50 connections log in (argon2) at once.
# Then checks that no unit was oversold, and reports the server's resident memory after
# the read scenarios and at the end. Loopback only. Needs wrk, curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
db_kind=${1:-sqlite}
products=${2:-10000}
seconds=${3:-10}
connections=${BENCH_CONNECTIONS:-32}
port=8099
work=$(mktemp -d)
trap 'kill $server ${baseline:-} 2>/dev/null || true; rm -rf "$work"; [ -n "${pg_db:-}" ] && psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null' EXIT

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }
cargo build --release -q -p shop -p shop-bench-baseline
bin=target/release/shop

case "$db_kind" in
  sqlite) url="sqlite://$work/bench.db?mode=rwc" ;;
  postgres)
    pg_db="shop_bench_$$"
    psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $pg_db" >/dev/null
    url="postgres://postgres@127.0.0.1:5432/$pg_db" ;;
  *) echo "usage: $0 [sqlite|postgres] [PRODUCTS] [SECONDS]"; exit 2 ;;
esac

# X-Forwarded-For is trusted so that the login storm comes from many client addresses.
# All buyers register from this one address, so the register limit is lifted.
export DATABASE_URL=$url SHOP_LISTEN=127.0.0.1:$port SHOP_LOG=warn SHOP_DB_MAX_CONNECTIONS=$connections \
  SHOP_TRUST_FORWARDED_FOR=true SHOP_REGISTRATIONS_PER_HOUR=1000000
$bin seed-demo --products "$products" >/dev/null 2>&1
$bin serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

gql() { curl -sf "http://127.0.0.1:$port/graphql" -H 'content-type: application/json' -d "$1"; }
json_query() { python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1]}))' "$1"; }

# A product list page: 20 products with their category, as a storefront's grid shows it.
list='{ products(first: 20) { edges { cursor node { id name slug price { amount currencyCode } inStock category { name slug } } } pageInfo { hasNextPage endCursor } } }'
json_query "$list" > "$work/list.txt"
# The same page with each product's variants, as a grid with size and colour swatches.
list_variants='{ products(first: 20) { edges { cursor node { id name slug price { amount currencyCode } inStock category { name slug } variants { id title price { amount } inStock selectedOptions { name value } } } } pageInfo { hasNextPage endCursor } } }'
json_query "$list_variants" > "$work/list-variants.txt"

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

baseline_port=$((port - 1))
bare_port=$((port - 2))
run() { # run NAME BODIES [PORT] [CONNECTIONS]: one wrk run of a scenario
  echo "$1:"
  BENCH_BODIES="$2" wrk -t2 -c"${4:-$connections}" -d"${seconds}s" -s bench/graphql.lua "http://127.0.0.1:${3:-$port}" -- 2 |
    grep -E 'requests/s|first error'
  echo "  shop's RSS now $(rss $server VmRSS)"
}
rss() { echo "$(( $(awk "/$2/ {print \$2}" /proc/$1/status) / 1024 )) MiB"; }

json_query '{ __typename }' > "$work/typename.txt"
echo "shop bench: $db_kind, $products products, $connections connections, ${seconds}s each, $(nproc) cores"
run typename "$work/typename.txt"
run list "$work/list.txt"
run "list with variants" "$work/list-variants.txt"
run slug "$work/slug.txt"
run search "$work/search.txt"

# The yardstick: the same list page from a hand-written handler on the same database.
SHOP_LISTEN=127.0.0.1:$baseline_port target/release/baseline &
baseline=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$baseline_port/graphql" -d '' >/dev/null && break; sleep 0.1; done
run "list, hand-written axum + SQL handler" "$work/list.txt" "$baseline_port"
kill $baseline; wait $baseline 2>/dev/null || true
# The second yardstick: the same page from the bare stack (async-graphql + sea-orm, one JOIN).
SHOP_LISTEN=127.0.0.1:$bare_port target/release/bare &
baseline=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$bare_port/graphql" -H 'content-type: application/json' -d '{"query":"{ __typename }"}' >/dev/null && break; sleep 0.1; done
run "list, bare async-graphql + sea-orm server" "$work/list.txt" "$bare_port"
kill $baseline; wait $baseline 2>/dev/null || true
# BENCH_READS_ONLY=1 stops here: the read scenarios and both yardsticks, for quick pairs.
if [ -n "${BENCH_READS_ONLY:-}" ]; then exit 0; fi

# Buyers: a pool of users, one per request in turn, so no two requests in flight share a
# cart. What they buy are bench products with plenty of stock: all the first one (a flash
# sale, every checkout queues for the same product's row), then one each of many (buyer i
# buys product i mod BENCH_SPREAD, the usual day).
buyers=${BENCH_BUYERS:-256}
spread=${BENCH_SPREAD:-64}
$bin create-admin --username benchadmin --email benchadmin@example.com --password "bench-admin-password" >/dev/null 2>&1 || true
admin=$(gql "$(json_query 'mutation { login(input: { username: "benchadmin", password: "bench-admin-password" }) { accessToken } }')" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["login"]["accessToken"])')
initial_stock=1000000
python3 - "$port" "$buyers" "$work" "$admin" "$spread" "$initial_stock" <<'PY'
import concurrent.futures, json, sys, urllib.request
port, buyers, work, admin, spread, stock = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
def post(body, token=None):
    headers = {"content-type": "application/json"}
    if token: headers["authorization"] = "Bearer " + token
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", json.dumps(body).encode(), headers)
    return json.load(urllib.request.urlopen(req))
def create(k):
    q = ('mutation { createProduct(input: { name: "Bench Widget %d", description: "x", price: "9.99", '
         'stock: %s, sku: "BENCH-%d" }) { id } }') % (k, stock, k)
    return post({"query": q}, admin)["data"]["createProduct"]["id"]
products = [create(k) for k in range(spread)]
with open(f"{work}/products", "w") as f:
    f.write("\n".join(products))
def register(i):
    q = 'mutation($i: RegisterInput!) { register(input: $i) { accessToken } }'
    v = {"i": {"username": f"buyer{i}", "email": f"buyer{i}@example.com", "password": "bench-buyer-password"}}
    return post({"query": q, "variables": v})["data"]["register"]["accessToken"]
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    tokens = list(pool.map(register, range(buyers)))
add = 'mutation { addToCart(productId: "%s", quantity: 1) { totalQuantity } }' % products[0]
address = '{ fullName: "Bench Buyer", line1: "1 Load St", city: "Benchville", postalCode: "12345", country: "NL" }'
# The demo ships to NL in more than one way, so the checkout names one: the first offered.
methods = post({"query": '{ shippingMethods(country: "NL") { id } }'})["data"]["shippingMethods"]
method = methods[0]["id"]
def buy(product):
    return ('mutation { addToCart(productId: "%s", quantity: 1) { totalQuantity } '
            'checkout(input: { shippingAddress: %s, shippingMethodId: "%s", paymentToken: "tok_visa" }) '
            '{ number status } }') % (product, address, method)
with open(f"{work}/cart.txt", "w") as f:
    for t in tokens: f.write(t + "\t" + json.dumps({"query": add}) + "\n")
with open(f"{work}/checkout.txt", "w") as f:
    for t in tokens: f.write(t + "\t" + json.dumps({"query": buy(products[0])}) + "\n")
with open(f"{work}/checkout-spread.txt", "w") as f:
    for i, t in enumerate(tokens): f.write(t + "\t" + json.dumps({"query": buy(products[i % spread])}) + "\n")
with open(f"{work}/tokens", "w") as f:
    f.write("\n".join(tokens))
login = 'mutation($i: LoginInput!) { login(input: $i) { accessToken } }'
with open(f"{work}/login.txt", "w") as f:
    for i in range(buyers):
        v = {"i": {"username": f"buyer{i}", "password": "bench-buyer-password"}}
        # Each from an address of its own, as logins from many shoppers arrive.
        ip = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
        f.write(f"X-Forwarded-For: {ip}\t" + json.dumps({"query": login, "variables": v}) + "\n")
PY
flash_product=$(head -1 "$work/products")

# Empties every buyer's cart of the flash-sale product: what the add-to-cart run put there,
# and a unit a checkout run's last requests added but did not buy before wrk stopped.
empty_carts() {
  while read -r token; do
    curl -sf "http://127.0.0.1:$port/graphql" -H 'content-type: application/json' -H "authorization: Bearer $token" \
      -d "$(json_query "mutation { removeFromCart(productId: \"$flash_product\") { totalQuantity } }")" >/dev/null || true
  done < "$work/tokens"
}
run add-to-cart "$work/cart.txt"
# Each checkout then buys exactly one unit.
empty_carts
run "checkout, flash sale (add one unit + checkout, every buyer the same product)" "$work/checkout.txt"
empty_carts
run "checkout, $spread products (add one unit + checkout, buyer i buys product i mod $spread)" "$work/checkout-spread.txt"

# Oversell check: every unit that left a bench product's stock is in exactly one paid order line.
python3 - "$port" "$admin" "$work/products" "$initial_stock" <<'PY'
import collections, json, sys, time, urllib.request
port, token, products, initial = sys.argv[1], sys.argv[2], open(sys.argv[3]).read().split(), int(sys.argv[4])
def post(query, variables=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql",
        json.dumps({"query": query, "variables": variables or {}}).encode(),
        {"content-type": "application/json", "authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req))["data"]
# Requests wrk gave up on at the end may still be paying: wait until none is PENDING.
for _ in range(300):
    if post('{ allOrders(first: 1, status: PENDING) { totalCount } }')["allOrders"]["totalCount"] == 0:
        break
    time.sleep(0.1)
orders = 0
units = collections.Counter()
after = None
while True:
    page = post('query($after: String) { allOrders(first: 100, after: $after, status: PAID) '
                '{ pageInfo { hasNextPage endCursor } nodes { items { quantity product { id } } } } }',
                {"after": after})["allOrders"]
    for order in page["nodes"]:
        orders += 1
        for item in order["items"]:
            units[item["product"]["id"]] += item["quantity"]
    if not page["pageInfo"]["hasNextPage"]:
        break
    after = page["pageInfo"]["endCursor"]
oversold = []
sold = 0
for product in products:
    stock = post('query($id: ID!) { product(id: $id) { stock } }', {"id": product})["product"]["stock"]
    sold += initial - stock
    if initial - stock != units[product] or stock < 0:
        oversold.append(product)
print(f"  paid orders {orders}, units in them {sum(units.values())}, units taken from stock {sold}: "
      f"{'no oversell' if not oversold else 'OVERSOLD: ' + ', '.join(oversold)}")
PY

# The floor while passwords are hashed: 50 connections log in (argon2id, 19 MiB and tens
# of milliseconds of CPU each) as fast as they can, and `{ __typename }` is measured beside.
run "typename while 50 connections log in" "$work/typename.txt" &
floor=$!
sleep 0.2
BENCH_BODIES="$work/login.txt" wrk -t1 -c50 -d"${seconds}s" -s bench/graphql.lua "http://127.0.0.1:$port" -- 1 |
  grep -E 'requests/s|first error' | sed 's/^  /  logins: /'
wait $floor
echo "server RSS at the end: $(rss $server VmRSS) (peak $(rss $server VmHWM))"
