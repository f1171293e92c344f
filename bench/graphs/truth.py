"""[truth] The allocator-level peak against the predicted peak on real models (CPU).

For each model it captures the step twice, with operator temporaries in workspaceBytes
(the default) and without them (outputs only, the capture before [truth]), plans each at
100 %, 70 % and the tightest budget auto plans (bisection between the floor and the
no-remat peak), executes every plan with the allocator trace, and prints a markdown table
of predicted peakBytes against the allocator's peak. The acceptance tolerance is 2 % of the
prediction or 1 MiB, whichever is larger.

Usage (from the repository root, on a quiet machine):

  PYTHONPATH=plugins/torch MEMPLAN_ROOT=$PWD python3 bench/graphs/truth.py resnet18 unet llama-12 [--time-limit 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

import memplan_torch as mt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from capture import make_case  # noqa: E402


def tolerance(predicted: int) -> int:
    return max(int(0.02 * predicted), 2**20)


def tightest(captured: mt.CapturedStep, time_limit: float, steps: int) -> mt.Plan:
    """The plan at the tightest budget auto plans within `steps` bisections."""
    best = mt.plan(captured, 1.0, time_limit=time_limit)
    low, high = best.json["floorBytes"], best.budget_bytes
    attempt = mt.plan(captured, {"bytes": low}, time_limit=time_limit)
    if attempt.feasible:
        return attempt
    for _ in range(steps):
        middle = (low + high) // 2
        attempt = mt.plan(captured, {"bytes": middle}, time_limit=time_limit)
        if attempt.feasible:
            best, high = attempt, attempt.predicted["peakBytes"]
        else:
            low = middle
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", default=["resnet18", "unet", "llama-12"])
    parser.add_argument("--time-limit", type=float, default=20.0, help="auto's time limit per plan (s)")
    parser.add_argument("--bisections", type=int, default=5)
    options = parser.parse_args()
    torch.set_num_threads(1)
    print("| model | capture | budget | budgetBytes | predicted peakBytes | allocator peak | allocator - predicted | over budget | within tolerance |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in options.models:
        model, inputs, targets, loss_fn, _ = make_case(name)
        for temporaries in (False, True):
            label = "with temporaries" if temporaries else "outputs only (before)"
            captured = mt.capture(model, inputs, loss_fn, targets, repeats=3, temporaries=temporaries, name=name)
            plans = [
                ("100 %", mt.plan(captured, 1.0, time_limit=options.time_limit)),
                ("70 %", mt.plan(captured, 0.7, time_limit=options.time_limit)),
                ("tightest", tightest(captured, options.time_limit, options.bisections)),
            ]
            if not plans[1][1].feasible:
                # No remat-only plan at 70 %: with a host link, swaps run under the trace too.
                plans.insert(2, ("70 % + pcie4", mt.plan(captured, 0.7, time_limit=options.time_limit, transfer="pcie4")))
            for budget, planned in plans:
                if not planned.feasible:
                    print(f"| {name} | {label} | {budget} | {planned.budget_bytes} | no plan ({planned.status}) | | | | |")
                    continue
                started = time.perf_counter()
                result = mt.execute(planned, (inputs, targets), update_buffers=False)
                seconds = time.perf_counter() - started
                predicted, allocated = result.predicted_peak_bytes, result.allocator_peak_bytes
                difference = allocated - predicted
                over = max(0, allocated - planned.budget_bytes)
                ok = abs(difference) <= tolerance(predicted) and over <= tolerance(predicted)
                print(
                    f"| {name} | {label} | {budget} ({planned.budget_bytes / planned.json['noRematPeakBytes']:.1%}) | "
                    f"{planned.budget_bytes:,} | {predicted:,} | {allocated:,} | {difference:+,} ({difference / predicted:+.2%}) | "
                    f"{over:,} | {'yes' if ok else 'NO'} |",
                    flush=True,
                )
                if result.largest_difference:
                    print(f"<!-- {name} {label} {budget}: {result.report()} ({seconds:.1f} s) -->", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
