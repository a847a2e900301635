#!/usr/bin/env bash
# Re-vendors GraphiQL's browser files from npm, so that `GET /` loads nothing from another
# host. Change a version below, run this script, then update the file names in index.html
# and api/src/http/graphiql.rs (the names carry the version, which lets browsers cache the
# files for a year). `npm pack` checks each tarball against the registry's integrity hash.
set -euo pipefail
cd "$(dirname "$0")"

GRAPHIQL=3.8.3 # the 3.x line ships a ready-made UMD bundle, graphql-ws included
REACT=18.3.1   # the last React with UMD builds; graphiql 3 needs React 16.8 to 18

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null)
for package in graphiql react react-dom; do
  mkdir -p "$work/$package"
  tar -xzf "$work"/"$package"-[0-9]*.tgz -C "$work/$package"
done

rm -f graphiql-*.min.* react-*.production.min.js react-dom-*.production.min.js ./*.LICENSE.txt
cp "$work/graphiql/package/graphiql.min.js" "graphiql-$GRAPHIQL.min.js"
cp "$work/graphiql/package/graphiql.min.css" "graphiql-$GRAPHIQL.min.css"
cp "$work/react/package/umd/react.production.min.js" "react-$REACT.production.min.js"
cp "$work/react-dom/package/umd/react-dom.production.min.js" "react-dom-$REACT.production.min.js"
cp "$work/graphiql/package/LICENSE" "graphiql-$GRAPHIQL.LICENSE.txt"
cp "$work/react/package/LICENSE" "react-$REACT.LICENSE.txt"
cp "$work/react-dom/package/LICENSE" "react-dom-$REACT.LICENSE.txt"
