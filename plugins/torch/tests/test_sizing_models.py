"""mt.max_batch on torchvision resnet18 (3x224x224 images) and on the 12-layer GPT-2-style
decoder of bench/graphs (sequence 256, hidden 384, vocabulary 8192), on the CPU:

- the answer B runs: execute()'s measured peak equals the predicted peak, within the device,
  and the loss and gradients equal an eager step;
- trial and error (capture and plan at every batch size from 1 up) finds no larger B;
- the time of each is recorded: ``MEMPLAN_SIZING_RESULTS=FILE python3 -m pytest
  plugins/torch/tests/test_sizing_models.py -m slow`` writes the figures to FILE.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.nn as nn

import memplan_torch as mt
from conftest import REPO_ROOT
from test_sizing import check_against_eager

pytestmark = pytest.mark.slow

# Planner seconds per plan, the same for both methods.
TIME_LIMIT = 5.0
MAX_OVERHEAD = 0.1
RESULTS: dict = {}


def resnet18_case():
    import torchvision
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None)
    make_batch = lambda size: (torch.randn(size, 3, 224, 224), torch.randint(0, 1000, (size,)))  # noqa: E731
    return model, make_batch, nn.functional.cross_entropy, 200_000_000, (1, 2, 4)


def decoder_case():
    sys.path.insert(0, str(Path(REPO_ROOT) / "bench" / "graphs"))
    import capture as graphs  # bench/graphs/capture.py: the decoders of the captured graphs

    torch.manual_seed(0)
    model = graphs.make_decoder("gpt2", 12)

    def make_batch(size: int):
        tokens = torch.randint(0, graphs.VOCABULARY, (size, graphs.SEQUENCE))
        return tokens, tokens

    return model, make_batch, graphs.causal_lm_loss, 800_000_000, (2, 3, 4)


CASES = {"resnet18": resnet18_case, "gpt2-12": decoder_case}


@pytest.fixture(scope="module", autouse=True)
def results():
    yield RESULTS
    path = os.environ.get("MEMPLAN_SIZING_RESULTS")
    if path:
        Path(path).write_text(json.dumps(RESULTS, indent=2))
    print("\nsizing:", json.dumps(RESULTS, indent=2))


def captured_sizes(result: mt.SizeResult) -> set:
    """The sizes the search captured: the model's samples and every size planned on a real capture."""
    return {trial.size for trial in result.trials if trial.source == "capture"} | set(result.model.sizes if result.model else ())


def summary(result: mt.SizeResult) -> dict:
    return {
        "size": result.size,
        "overhead": result.overhead,
        "measuredPeakBytes": result.measured_peak_bytes,
        "predictedPeakBytes": result.predicted_peak_bytes,
        "next": result.next_reason,
        "nextProven": result.next_proven,
        "captures": len(captured_sizes(result)),
        "plans": len(result.trials),
        "seconds": {key: round(value, 1) for key, value in result.seconds.items()},
    }


@pytest.mark.parametrize("name", list(CASES))
def test_max_batch_runs_and_trial_and_error_finds_no_larger_batch(name, server_url):
    model, make_batch, loss, device_bytes, sizes = CASES[name]()
    # Both searches plan on the same captures: timings differ by a few percent between two
    # captures of one size, which would move the overhead across the cap at the margin.
    options = dict(time_limit=TIME_LIMIT, server=server_url, repeats=2, captures={})
    result = mt.max_batch(model, make_batch, loss, device_bytes, MAX_OVERHEAD, sizes=sizes, **options)
    assert result.size >= 1, result.next_reason
    planned = result.plan
    assert planned.predicted["overheadRatio"] <= 1 + MAX_OVERHEAD + 1e-12
    assert result.measured_peak_bytes == planned.predicted["peakBytes"] <= device_bytes
    inputs, targets = result.captured.example_inputs
    check_against_eager(planned, model, loss, inputs, targets)
    started = time.perf_counter()
    trial = mt.max_batch(model, make_batch, loss, device_bytes, MAX_OVERHEAD, method="trial", run=False, **options)
    trial_seconds = time.perf_counter() - started
    RESULTS[name] = {
        "deviceBytes": device_bytes,
        "maxOverhead": MAX_OVERHEAD,
        "planSecondsLimit": TIME_LIMIT,
        "nodes": len(planned.captured.graph["nodes"]),
        "memplan": summary(result),
        "trial": {**summary(trial), "wallSeconds": round(trial_seconds, 1)},
    }
    assert trial.size <= result.size
