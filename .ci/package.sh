#!/usr/bin/env bash
# Build the wheel and sdist, check them, then install the built wheel (not the checkout) with its
# optional extras into a fresh venv outside the checkout and run the demo for a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
rm -rf dist
"$PY" -m build -q --outdir dist . >/dev/null
"$PY" -m twine check --strict dist/*
venv=$(mktemp -d)/venv
"$PY" -m venv "$venv"
wheel=$(ls dist/*.whl)
extras=""
for extra in redis otel; do
  if grep -q "^$extra = \[" pyproject.toml; then extras="${extras:+$extras,}$extra"; fi
done
"$venv/bin/pip" install -q "${wheel}${extras:+[$extras]}"
(cd "$(dirname "$venv")" && "$venv/bin/vonage-async" demo --duration 3 >demo.out && head -3 demo.out)
# The otel extra's module imports from the installed wheel (its API package came with the extra).
if [[ ",$extras," == *",otel,"* ]]; then (cd "$(dirname "$venv")" && "$venv/bin/python" -c "import vonage_async.otel"); fi
echo "package: $(basename "$wheel") installed from the wheel${extras:+ with [$extras]}; demo ran"
