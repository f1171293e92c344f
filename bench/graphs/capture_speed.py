"""How capture time grows with depth: the decoders of capture.py at 2 and 32 layers.

Each capture runs in a fresh Python process (what a user of capture.py sees: the one-time
costs of the first capture in a process included), on one torch thread. The wall and
CPU seconds of the capture() call alone are printed per case, then the 32-layer to
2-layer ratios (issue 16 asks for at most 3x). `--straightforward` captures with
reuse_repeats=False (every operator run on real tensors) for comparison; `--warm` first
captures a small MLP in the same process, leaving the one-time costs out.

Usage (from the repository root; time it on a quiet machine):

  PYTHONPATH=plugins/torch python3 bench/graphs/capture_speed.py
  PYTHONPATH=plugins/torch python3 bench/graphs/capture_speed.py --families llama --layers 2,8,32 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

HERE = Path(__file__).resolve().parent


def measure_one(name: str, repeats: int, reuse: bool, warm: bool) -> Dict[str, float]:
    """Captures one model in this process and returns its timings."""
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(HERE))
    import capture as cases  # bench/graphs/capture.py

    import memplan_torch as mt

    if warm:
        torch.manual_seed(0)
        small = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.Tanh(), torch.nn.Linear(64, 10))
        mt.capture(small, torch.randn(16, 32), torch.nn.functional.cross_entropy, torch.randint(0, 10, (16,)), repeats=1)
    model, inputs, targets, loss_fn, _ = cases.make_case(name)
    wall, cpu = time.perf_counter(), time.process_time()
    captured = mt.capture(model, inputs, loss_fn, targets, repeats=repeats, name=name, reuse_repeats=reuse)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "wall": wall,
        "cpu": cpu,
        "trace": captured.fx_seconds,
        "profile": captured.profile_seconds,
        "nodes": len(captured.graph["nodes"]),
        "reused": captured.reused_calls,
    }


def run_child(name: str, options: argparse.Namespace) -> Dict[str, float]:
    """One capture in a fresh process; its timings as JSON on the last line of stdout."""
    command = [sys.executable, __file__, "--child", name, "--repeats", str(options.repeats)]
    if options.straightforward:
        command.append("--straightforward")
    if options.warm:
        command.append("--warm")
    done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
    if done.returncode != 0:
        raise SystemExit(f"capture_speed.py: capturing {name} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", default="llama,gpt2", help="decoder families (default llama,gpt2)")
    parser.add_argument("--layers", default="2,32", help="depths; ratios are to the first (default 2,32)")
    parser.add_argument("--runs", type=int, default=1, help="fresh processes per case; the median is shown (default 1)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per distinct call (default 5, as capture.py)")
    parser.add_argument("--straightforward", action="store_true", help="capture with reuse_repeats=False")
    parser.add_argument("--warm", action="store_true", help="capture a small MLP first in each process")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        print(json.dumps(measure_one(options.child, options.repeats, not options.straightforward, options.warm)))
        return 0
    depths = [int(text) for text in options.layers.split(",")]
    mode = "straightforward" if options.straightforward else "reuse_repeats"
    print(f"capture() seconds, fresh process per case{', warmed up' if options.warm else ''}, {mode}, median of {options.runs}")
    print(f"{'case':<10} {'nodes':>6} {'wall':>7} {'cpu':>7} {'trace':>7} {'profile':>8} {'reused':>7}")
    for family in options.families.split(","):
        results: List[Tuple[int, Dict[str, float]]] = []
        for depth in depths:
            name = f"{family}-{depth}"
            runs = [run_child(name, options) for _ in range(options.runs)]
            median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            results.append((depth, median))
            print(
                f"{name:<10} {int(median['nodes']):>6} {median['wall']:>7.1f} {median['cpu']:>7.1f} {median['trace']:>7.1f}"
                f" {median['profile']:>8.1f} {int(median['reused']):>7}",
                flush=True,
            )
        base_depth, base = results[0]
        for depth, result in results[1:]:
            print(
                f"{family}: {depth} layers / {base_depth} layers = {result['wall'] / base['wall']:.2f}x wall,"
                f" {result['cpu'] / base['cpu']:.2f}x cpu",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
