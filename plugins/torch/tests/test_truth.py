"""[truth] The predicted peak against the allocator's: execute() measures what the step
really allocates (torch.profiler's allocation events on the CPU), and capture records
each operator's internal temporaries as workspaceBytes, so the two agree. On the CPU the
allocator neither rounds nor caches, so the tests hold them to 0.5 %, tighter than the
acceptance tolerance (2 % or 1 MiB): a capture that stops recording temporaries fails."""

from __future__ import annotations

import pytest

import memplan_torch as mt
from conftest import TIME_LIMIT
from helpers import check_allocator, loss_fn, tightest_plan

STRICT = 0.005


@pytest.fixture(scope="module")
def captures(cnn_case, attention_case):
    cases = {}
    for name, (model, inputs, targets) in {"cnn": cnn_case, "attention": attention_case}.items():
        cases[name] = (mt.capture(model, inputs, loss_fn, targets, repeats=1), inputs, targets)
    return cases


def _run(captured, inputs, targets, budget):
    planned = mt.plan(captured, budget, strategy="auto", time_limit=TIME_LIMIT)
    assert planned.feasible, planned.json.get("message")
    return planned, mt.execute(planned, (inputs, targets))


def _strict(result: mt.ExecutionResult) -> None:
    predicted = result.predicted_peak_bytes
    assert abs(result.allocator_peak_bytes - predicted) <= STRICT * predicted, result.report()


@pytest.mark.parametrize("fraction", [pytest.param(1.0, marks=pytest.mark.slow), 0.7])
@pytest.mark.parametrize("name", ["cnn", "attention"])
def test_allocator_peak_matches_the_prediction(captures, name, fraction):
    captured, inputs, targets = captures[name]
    planned, result = _run(captured, inputs, targets, fraction)
    check_allocator(result, planned)
    _strict(result)
    assert len(result.allocator_step_bytes) == len(planned.schedule)


def test_capture_records_operator_temporaries(captures):
    # Convolution (oneDNN) and CPU flash attention allocate scratch beyond their outputs.
    for name, op in [("cnn", "convolution"), ("attention", "_scaled_dot_product_flash_attention_for_cpu_backward")]:
        nodes = [node for node in captures[name][0].graph["nodes"] if node["op"] == op]
        assert nodes and all(node.get("workspaceBytes", 0) > 0 for node in nodes), name


@pytest.mark.parametrize("name", ["cnn", pytest.param("attention", marks=pytest.mark.slow)])
def test_a_capture_without_temporaries_underestimates(cnn_case, attention_case, name):
    # The cases above are sensitive: without the temporaries the allocator exceeds the
    # prediction at some step by more than the strict tolerance, and execute() names the
    # step. Whether that step is the peak depends on the plan (auto's search runs to its
    # time limit on graphs above 200 nodes), so the step's excess is what is checked.
    model, inputs, targets = {"cnn": cnn_case, "attention": attention_case}[name]
    captured = mt.capture(model, inputs, loss_fn, targets, repeats=1, temporaries=False)
    planned, result = _run(captured, inputs, targets, 0.7)
    assert result.allocator_peak_bytes >= result.predicted_peak_bytes
    gap = result.largest_difference
    assert gap is not None and gap["op"] == "compute"
    assert gap["allocatorBytes"] - gap["predictedBytes"] > STRICT * result.predicted_peak_bytes, result.report()
    assert gap["node"] in {node["id"] for node in captured.graph["nodes"]}
    assert f"step {gap['step']}" in result.report()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cnn", "attention"])
def test_allocator_peak_at_the_tightest_budget(captures, name):
    captured, inputs, targets = captures[name]
    planned = tightest_plan(captured, TIME_LIMIT)
    assert planned.budget_bytes < planned.json["noRematPeakBytes"]
    result = mt.execute(planned, (inputs, targets))
    check_allocator(result, planned)
    _strict(result)
