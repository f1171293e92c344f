#!/usr/bin/env bash
# Installs what the tests need beyond npm: Debian's chromium (the Swagger UI end-to-end
# test) and the PyTorch plugin with torch, torchvision and pytest. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "setup: chromium is missing; install it (sudo apt-get install chromium) for the browser test" >&2
  fi
fi

# torch CPU wheels: this machine's pip carries them; elsewhere PyPI serves torch and torchvision.
python3 -m pip install -q torch==2.13.0+cpu torchvision pytest || python3 -m pip install -q torch torchvision pytest
python3 -m pip install -q -e plugins/torch
