#!/usr/bin/env bash
# Installs what the tests need beyond npm: Debian's chromium (the Swagger UI end-to-end
# test), the PyTorch plugin with torch, torchvision, pytest and HF transformers. Idempotent.
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

# PyTorch 2.14.1 with its matching torchvision 0.29.1 (the README's example imports it).
# Both are CUDA 13 builds, the only torchvision builds the registry carries (a CUDA
# torchvision cannot load beside a CPU torch); they run on the CPU when there is no GPU.
# The registry has no cuda-bindings, which torch requires for CUDA Python tooling but not
# to import or run, so torch and torchvision are installed without resolving their
# requirements and the runtime requirements are named here (about 4.6 GB, 6 minutes).
TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
installed="$(python3 -c 'import torch, torchvision; print(torch.__version__.split("+")[0], torchvision.__version__.split("+")[0])' 2>/dev/null || true)"
if [ "$installed" != "$TORCH_VERSION $TORCHVISION_VERSION" ]; then
  python3 -m pip install -q --no-deps "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
  python3 -m pip install -q \
    "cuda-toolkit[cublas,cudart,cufft,cufile,cupti,curand,cusolver,cusparse,nvjitlink,nvrtc,nvtx]==13.0.3" \
    "nvidia-cudnn-cu13==9.24.0.43" "nvidia-cusparselt-cu13==0.8.1" "nvidia-nccl-cu13==2.30.7" "nvidia-nvshmem-cu13==3.4.5" \
    filelock "typing-extensions>=4.10" "sympy>=1.13.3" "networkx>=2.5.1" jinja2 "fsspec>=0.8.5" numpy "pillow>=5.3"
fi
# pytest, and HF transformers for the decoders the slow tests and bench/graphs/capture.py build
# (it does not require torch, so the torch above stays).
python3 -m pip install -q pytest "transformers==5.18.0"
# The plugin's one requirement, torch, is installed above. Resolving it again would replace
# torch 2.14.1 by the machine's 2.13.0+cpu wheel (pip counts the absent cuda-bindings as
# unmet) and break torchvision, so the plugin is installed without its requirements.
python3 -m pip install -q --no-deps -e plugins/torch
# Last, so that nothing installed after it can break it: fails here, not in the tests.
python3 -c 'import torch, torchvision, memplan_torch; torchvision.models.resnet18()'
