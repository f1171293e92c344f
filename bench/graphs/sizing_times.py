"""The time mt.max_batch takes against trial and error, each on its own captures.

The slow test plugins/torch/tests/test_sizing_models.py checks the answers, and its two
searches share one captures dict (so they plan on the same measurements); that makes the
second search's captures free. Here each search starts with an empty dict, as a user would
run it, on the same cases (torchvision resnet18 in 200 MB, the 12-layer GPT-2-style decoder
in 800 MB, 10 % overhead cap, 5 s per plan), with `run=False` (no execute at B) for both.
It starts the memplan service from this checkout, prints one line per search and writes
the figures as JSON to --out.

Usage (from the repository root; time it on a quiet machine):

  PYTHONPATH=plugins/torch python3 bench/graphs/sizing_times.py [--out sizing-times.json] [--only resnet18]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_service() -> "tuple[subprocess.Popen, str]":
    """The memplan service on a free port, with an in-memory store."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    env = dict(os.environ, PORT=str(port), HOST="127.0.0.1", MEMPLAN_DATA_DIR=":memory:")
    env.pop("MEMPLAN_API_KEYS", None)
    process = subprocess.Popen(
        ["node", "--import", "tsx", "src/server.ts"], cwd=str(ROOT), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return process, url
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise SystemExit("the memplan service did not start")
            time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "sizing-times.json"))
    parser.add_argument("--only", default=None, help="comma-separated case names (resnet18, gpt2-12)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "plugins" / "torch" / "tests"))
    import memplan_torch as mt
    import test_sizing_models as cases  # the cases of the slow test, so both measure the same thing

    names = args.only.split(",") if args.only else list(cases.CASES)
    process, url = start_service()
    figures: dict = {}
    try:
        for name in names:
            model, make_batch, loss, device_bytes, sizes = cases.CASES[name]()
            for method in ("trial", "model"):
                started = time.perf_counter()
                result = mt.max_batch(
                    model, make_batch, loss, device_bytes, cases.MAX_OVERHEAD, sizes=sizes, method=method, run=False,
                    time_limit=cases.TIME_LIMIT, server=url, repeats=2, captures={},
                )
                figures.setdefault(name, {})[method] = {
                    "size": result.size,
                    "wallSeconds": round(time.perf_counter() - started, 1),
                    "captures": len(cases.captured_sizes(result)),
                    "plans": len(result.trials),
                    "seconds": {key: round(value, 1) for key, value in result.seconds.items()},
                    "next": result.next_reason,
                }
                print(name, method, json.dumps(figures[name][method]), flush=True)
    finally:
        process.terminate()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(figures, indent=2))
    print("written:", args.out)


if __name__ == "__main__":
    main()
