#!/usr/bin/env bash
# Contract tests against the Prism mock server: install Prism from npm (into .contract/, git
# ignored), run the pytest contract tests, print the table. Skips plainly without npm.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python}
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "SKIPPED: npm/node are not available, so the Prism contract tests did not run"
  exit 0
fi
if [ ! -x .contract/node_modules/.bin/prism ]; then
  start=$(date +%s)
  npm install --prefix .contract --no-audit --no-fund --loglevel=error @stoplight/prism-cli@5
  echo "Prism installed in $(( $(date +%s) - start )) s"
fi
"$PY" -m pytest -q -m contract tests/contract
"$PY" -m tests.contract.table
