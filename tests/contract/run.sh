#!/usr/bin/env bash
# Contract tests: Schemathesis runs the official OpenAPI files against the standalone emulator
# (needs the [dev] extra); Prism (installed from npm into .contract/, git ignored) serves the same
# files to the SDK, statically and with generated answers. Prism's part skips plainly without npm.
# The table of operations per file: `python -m tests.contract.table` (runs Prism again).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python}
tests=(tests/contract/test_schemathesis.py)
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "SKIPPED: npm/node are not available, so the Prism contract tests did not run"
else
  if [ ! -x .contract/node_modules/.bin/prism ]; then
    start=$(date +%s)
    npm install --prefix .contract --no-audit --no-fund --loglevel=error @stoplight/prism-cli@5
    echo "Prism installed in $(( $(date +%s) - start )) s"
  fi
  tests+=(tests/contract/test_contract.py)
fi
VONAGE_CONTRACT=1 "$PY" -m pytest -q -p no:cacheprovider -m contract -rs "${tests[@]}"
