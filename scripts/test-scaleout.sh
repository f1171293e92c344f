#!/usr/bin/env bash
# The scale-out tests (`npm run test:scaleout`): starts Redis and PostgreSQL with
# scripts/scaleout-services.sh (Debian's packages; installs them when missing, so run it
# as root, as CI does), then vitest's scaleout project: the store conformance suite on
# PostgreSQL and the distributed end-to-end test (2 API processes, 2 worker processes).
# MEMPLAN_TEST_DATABASE_URL, when set, is used as it is and nothing is started.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${MEMPLAN_TEST_DATABASE_URL:-}" ]; then
  settings=$(bash scripts/scaleout-services.sh)
  MEMPLAN_TEST_DATABASE_URL=$(printf '%s\n' "$settings" | sed -n 's/^MEMPLAN_DATABASE_URL=//p')
  export MEMPLAN_TEST_DATABASE_URL
fi
exec npx vitest run --project scaleout "$@"
