"""The largest batch (or sequence length) whose training step fits a device with at most a
given overhead, found with the planner instead of by trial and error.

``max_batch(model, make_batch, loss_fn, device_bytes, max_overhead=0.1)``:

1. captures the step at two or three small sizes and models every node's bytes, workspace
   and cost as a polynomial of the size (nodes matched by id, or by position when the ids
   differ but the operators and inputs do not); where the structure changes with the size
   (a batch of 1 often traces differently) it tries once more without the smallest size and
   with twice the largest, and failing that captures at each candidate size instead;
2. searches the size with the planner: the modelled graph at size s is planned at
   ``device_bytes``, and s fits when the plan's overhead (makespan / baseCost - 1) is at
   most ``max_overhead`` (doubling from the largest captured size, then bisecting);
3. confirms by capturing at the answer B and at B + 1: B's plan must fit, and B + 1's must
   not (the answer moves while the real captures disagree with the model), and runs B's
   plan with ``execute()`` to measure its peak;
4. returns the size, its plan, the measured peak and why B + 1 does not fit: below the
   proven floor, a proven bound above the cap, no plan found, or a plan found above the cap.

``max_seq_len`` is the same search over a sequence length; ``method="trial"`` captures and
plans at every size from 1 up instead (the trial and error the model replaces). Only the
plugin's public functions are used: capture, plan and execute.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch

from .capture import CapturedStep, capture
from .execute import ExecutionResult, execute
from .planning import Plan, plan

__all__ = ["SizeModel", "SizeResult", "Trial", "fit_size_model", "max_batch", "max_seq_len"]

Batch = Tuple[Any, Any]
# Tolerance of the overhead test (float rounding of makespan / baseCost).
_RATIO_SLACK = 1e-12


@dataclass
class Trial:
    """One size tried: planned on the modelled graph or on a real capture, and the verdict."""

    size: int
    source: str  # "model" or "capture"
    fits: bool
    reason: str
    overhead: Optional[float] = None
    floor_bytes: Optional[int] = None
    seconds: float = 0.0
    plan: Optional[Plan] = None


@dataclass
class SizeResult:
    """The answer of a size search.

    ``size`` is the largest size found that fits (0 when even size 1 does not), ``plan`` its
    plan on the real capture at that size and ``execution`` the step run by ``execute()``
    (``measured_peak_bytes`` is its peak). ``next_reason`` says why ``size + 1`` does not fit
    and ``next_proven`` whether that is proven (below the floor, or a bound above the cap).
    ``trials`` lists every size tried, ``seconds`` the time of each phase.
    """

    size: int
    plan: Optional[Plan]
    captured: Optional[CapturedStep]
    execution: Optional[ExecutionResult]
    measured_peak_bytes: Optional[int]
    predicted_peak_bytes: Optional[int]
    overhead: Optional[float]
    next_reason: str
    next_proven: bool
    device_bytes: int
    max_overhead: float
    method: str
    trials: List[Trial] = field(default_factory=list)
    seconds: Dict[str, float] = field(default_factory=dict)
    model: Optional["SizeModel"] = None

    def __repr__(self) -> str:
        return (
            f"SizeResult(size={self.size}, overhead={self.overhead}, measured_peak_bytes={self.measured_peak_bytes}, "
            f"device_bytes={self.device_bytes}, next={self.next_reason!r})"
        )


class SizeModel:
    """Every node's bytes, workspace and cost as polynomials of the size, fitted on captures."""

    def __init__(self, template: Dict[str, Any], sizes: Sequence[int], coefficients: Dict[str, List[List[float]]]):
        self.template = template
        self.sizes = list(sizes)
        # Per field: one list of polynomial coefficients (constant first) per node, plus "resident".
        self.coefficients = coefficients

    @staticmethod
    def _value(coefficients: Sequence[float], size: float) -> float:
        return sum(coefficient * size**power for power, coefficient in enumerate(coefficients))

    def graph(self, size: int) -> Dict[str, Any]:
        """The contract Graph modelled at ``size``: bytes and workspace rounded to whole bytes, nothing negative."""
        nodes = []
        for position, node in enumerate(self.template["nodes"]):
            entry = dict(node)
            entry["bytes"] = max(0, int(round(self._value(self.coefficients["bytes"][position], size))))
            entry["cost"] = max(0.0, float(self._value(self.coefficients["cost"][position], size)))
            workspace = max(0, int(round(self._value(self.coefficients["workspace"][position], size))))
            entry.pop("workspaceBytes", None)
            if workspace:
                entry["workspaceBytes"] = workspace
            nodes.append(entry)
        resident = max(0, int(round(self._value(self.coefficients["resident"][0], size))))
        name = self.template.get("name") or "step"
        return {"name": f"{name} (modelled at size {size})", "residentBytes": resident, "nodes": nodes}


def _polyfit(sizes: Sequence[int], values: Sequence[float], degree: int) -> List[float]:
    """Least-squares polynomial coefficients (constant first); exact when len(sizes) == degree + 1."""
    x = torch.tensor([float(size) for size in sizes], dtype=torch.float64)
    y = torch.tensor([float(value) for value in values], dtype=torch.float64)
    basis = torch.stack([x**power for power in range(degree + 1)], dim=1)
    solution = torch.linalg.lstsq(basis, y.unsqueeze(1)).solution.squeeze(1)
    return [float(value) for value in solution]


def _structure(graph: Dict[str, Any]) -> List[Tuple[Any, ...]]:
    """What must agree between captures for nodes to be matched by position."""
    index = {node["id"]: position for position, node in enumerate(graph["nodes"])}
    return [
        (
            node.get("op"),
            node.get("kind"),
            tuple(index[input_id] for input_id in node.get("inputs", [])),
            bool(node.get("keep")),
            node.get("recomputable", True),
        )
        for node in graph["nodes"]
    ]


def fit_size_model(
    graphs: Dict[int, Dict[str, Any]], degree: Optional[int] = None, cost_degree: Optional[int] = None
) -> Optional[SizeModel]:
    """Fits a SizeModel on graphs captured at several sizes (size -> contract Graph); None when
    their structure differs (other nodes, operators or inputs), so no node-by-node model exists.
    Nodes are matched by id when the ids agree, else by position. ``degree`` (bytes and
    workspace) defaults to the number of sizes minus one, at most 2 (attention's bytes grow with
    the square of the length); ``cost_degree`` defaults to ``degree`` (measured costs are noisy:
    a batch's costs are lines, use 1 there)."""
    sizes = sorted(graphs)
    if len(sizes) < 2:
        return None
    template = graphs[sizes[-1]]
    shape = _structure(template)
    for size in sizes[:-1]:
        if _structure(graphs[size]) != shape:
            return None
    degree = min(2, len(sizes) - 1) if degree is None else min(degree, len(sizes) - 1)
    cost_degree = degree if cost_degree is None else min(cost_degree, len(sizes) - 1)
    coefficients: Dict[str, List[List[float]]] = {"bytes": [], "cost": [], "workspace": []}
    for position in range(len(template["nodes"])):
        rows = [graphs[size]["nodes"][position] for size in sizes]
        coefficients["bytes"].append(_polyfit(sizes, [row["bytes"] for row in rows], degree))
        coefficients["workspace"].append(_polyfit(sizes, [row.get("workspaceBytes", 0) for row in rows], degree))
        coefficients["cost"].append(_polyfit(sizes, [row["cost"] for row in rows], cost_degree))
    coefficients["resident"] = [_polyfit(sizes, [graphs[size].get("residentBytes", 0) for size in sizes], degree)]
    return SizeModel(template, sizes, coefficients)


class _Search:
    """The state of one size search: the step, the device, the planner's options and what was tried."""

    def __init__(
        self,
        model: torch.nn.Module,
        make_batch: Callable[[int], Batch],
        loss_fn: Callable[..., torch.Tensor],
        device_bytes: int,
        max_overhead: float,
        options: Dict[str, Any],
        repeats: int,
        captures: Optional[Dict[int, CapturedStep]] = None,
    ):
        self.model = model
        self.make_batch = make_batch
        self.loss_fn = loss_fn
        self.device_bytes = int(device_bytes)
        self.max_overhead = float(max_overhead)
        self.options = options
        self.repeats = repeats
        self.trials: List[Trial] = []
        # Shared with the caller when given: another search over the same step reuses these.
        self.captures: Dict[int, CapturedStep] = captures if captures is not None else {}
        self.seconds: Dict[str, float] = {"capture": 0.0, "plan": 0.0, "execute": 0.0}

    def capture(self, size: int) -> CapturedStep:
        if size not in self.captures:
            inputs, targets = self.make_batch(size)
            started = time.perf_counter()
            self.captures[size] = capture(self.model, inputs, self.loss_fn, targets, repeats=self.repeats)
            self.seconds["capture"] += time.perf_counter() - started
        return self.captures[size]

    def judge(self, size: int, graph: Union[CapturedStep, Dict[str, Any]], source: str) -> Trial:
        """Plans ``graph`` at the device's bytes and says whether it fits within the overhead, and if not, why."""
        started = time.perf_counter()
        planned = plan(graph, {"bytes": self.device_bytes}, **self.options)
        seconds = time.perf_counter() - started
        self.seconds["plan"] += seconds
        data = planned.json
        floor = data.get("floorBytes")
        predicted = data.get("predicted") or {}
        bound = data.get("bound") or {}
        cap = 1 + self.max_overhead
        overhead = predicted["overheadRatio"] - 1 if predicted else None
        base = predicted.get("baseCost")
        if predicted and predicted["overheadRatio"] <= cap + _RATIO_SLACK:
            trial = Trial(size, source, True, f"a plan {100 * overhead:.3f} % over baseCost fits", overhead, floor, seconds, planned)
        elif floor is not None and floor > self.device_bytes:
            reason = f"below the floor: every schedule needs at least {floor} bytes, above the device's {self.device_bytes}"
            trial = Trial(size, source, False, reason, overhead, floor, seconds, planned)
        elif predicted and bound.get("scope") == "all-schedules" and base and bound["makespan"] / base > cap + _RATIO_SLACK:
            proven = 100 * (bound["makespan"] / base - 1)
            reason = f"proven: every schedule that fits takes at least {proven:.3f} % over baseCost"
            trial = Trial(size, source, False, reason, overhead, floor, seconds, planned)
        elif predicted:
            reason = f"no plan within {100 * self.max_overhead:g} % found: the best plan found takes {100 * overhead:.3f} % over baseCost"
            trial = Trial(size, source, False, reason, overhead, floor, seconds, planned)
        else:
            smallest = data.get("smallestPeakBytes")
            detail = f" (the smallest peak reached is {smallest} bytes)" if smallest is not None else ""
            trial = Trial(size, source, False, f"no plan found{detail}", None, floor, seconds, planned)
        self.trials.append(trial)
        return trial

    def judge_captured(self, size: int) -> Trial:
        return self.judge(size, self.capture(size), "capture")


def _largest_fitting(fits: Callable[[int], bool], start: int, limit: int) -> int:
    """The largest size in [1, limit] for which ``fits`` holds, assuming it holds up to some size and
    not beyond: doubling from ``start`` while it fits, then bisecting. 0 when size 1 does not fit."""
    start = max(1, min(start, limit))
    if fits(start):
        low, high = start, None
        while high is None:
            if low >= limit:
                return limit
            candidate = min(2 * low, limit)
            if fits(candidate):
                low = candidate
            else:
                high = candidate
    else:
        low, high = 0, start
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low


def _confirm(search: "_Search", answer: int, limit: int) -> int:
    """The answer checked on real captures: where the capture at the answer does not fit (the
    model was optimistic) the largest fitting size below it, and where the one at answer + 1
    fits (pessimistic) the largest above it; one size off is checked first, then bisected."""
    fits = lambda size: search.judge_captured(size).fits  # noqa: E731
    if answer >= 1 and not fits(answer):
        if answer == 1 or fits(answer - 1):
            return answer - 1 if answer > 1 else 0
        return _largest_fitting(fits, max(1, (answer - 1) // 2), answer - 2) if answer > 2 else 0
    if answer < limit and fits(answer + 1):
        return _largest_fitting(fits, answer + 1, limit)
    return answer


def _max_size(
    model: torch.nn.Module,
    make_batch: Callable[[int], Batch],
    loss_fn: Callable[..., torch.Tensor],
    device_bytes: int,
    max_overhead: float,
    *,
    sizes: Sequence[int],
    limit: int,
    method: str,
    strategy: str,
    time_limit: Optional[float],
    transfer: Union[None, str, Dict[str, float]],
    server: Optional[str],
    repeats: int,
    run: bool,
    cost_degree: int,
    captures: Optional[Dict[int, CapturedStep]],
) -> SizeResult:
    if method not in ("model", "trial"):
        raise ValueError(f"method must be 'model' or 'trial', not {method!r}")
    started = time.perf_counter()
    options: Dict[str, Any] = {"strategy": strategy, "time_limit": time_limit, "transfer": transfer, "server": server}
    search = _Search(model, make_batch, loss_fn, device_bytes, max_overhead, options, repeats, captures)
    fitted: Optional[SizeModel] = None
    if method == "trial":
        # Trial and error: capture and plan at every size from 1 up, until one does not fit.
        size = 0
        while size < limit and search.judge_captured(size + 1).fits:
            size += 1
        answer = size
    else:
        sizes = sorted({int(size) for size in sizes if 1 <= int(size) <= limit})
        fitted = fit_size_model({size: search.capture(size).graph for size in sizes}, cost_degree=cost_degree)
        if fitted is None and len(sizes) >= 2 and 2 * sizes[-1] <= limit:
            # The smallest size often traces differently (a dimension of 1 is broadcast or
            # squeezed): one more try without it and with twice the largest.
            sizes = [*sizes[1:], 2 * sizes[-1]]
            fitted = fit_size_model({size: search.capture(size).graph for size in sizes}, cost_degree=cost_degree)
        if fitted is not None:
            answer = _largest_fitting(lambda size: search.judge(size, fitted.graph(size), "model").fits, sizes[-1], limit)
        else:
            # The structure changes with the size: each candidate is captured.
            answer = _largest_fitting(lambda size: search.judge_captured(size).fits, sizes[-1], limit)
        answer = _confirm(search, answer, limit)
    seconds = search.seconds
    final = next((trial for trial in reversed(search.trials) if trial.source == "capture" and trial.size == answer and trial.fits), None)
    following = next((trial for trial in reversed(search.trials) if trial.source == "capture" and trial.size == answer + 1), None)
    if following is None and answer < limit:
        following = search.judge_captured(answer + 1)
    next_reason = following.reason if following else f"{limit} is the largest size searched (limit)"
    next_proven = bool(following and (following.reason.startswith("below the floor") or following.reason.startswith("proven")))
    execution = None
    if final is not None and run:
        executed = time.perf_counter()
        execution = execute(final.plan, update_buffers=False)
        seconds["execute"] = time.perf_counter() - executed
    seconds["total"] = time.perf_counter() - started
    predicted = (final.plan.predicted or {}) if final else {}
    return SizeResult(
        size=answer,
        plan=final.plan if final else None,
        captured=search.captures.get(answer) if final else None,
        execution=execution,
        measured_peak_bytes=execution.measured_peak_bytes if execution else None,
        predicted_peak_bytes=predicted.get("peakBytes"),
        overhead=final.overhead if final else None,
        next_reason=next_reason,
        next_proven=next_proven,
        device_bytes=int(device_bytes),
        max_overhead=float(max_overhead),
        method=method,
        trials=search.trials,
        seconds=seconds,
        model=fitted,
    )


def max_batch(
    model: torch.nn.Module,
    make_batch: Callable[[int], Batch],
    loss_fn: Callable[..., torch.Tensor],
    device_bytes: int,
    max_overhead: float = 0.1,
    *,
    sizes: Sequence[int] = (1, 2, 4),
    limit: int = 1 << 16,
    method: str = "model",
    strategy: str = "auto",
    time_limit: Optional[float] = 5.0,
    transfer: Union[None, str, Dict[str, float]] = None,
    server: Optional[str] = None,
    repeats: int = 3,
    run: bool = True,
    captures: Optional[Dict[int, CapturedStep]] = None,
) -> SizeResult:
    """The largest batch size B whose training step fits ``device_bytes`` with a plan at most
    ``max_overhead`` (0.1 = 10 %) slower than the step without recomputation or swaps.

    ``make_batch(size)`` returns ``(inputs, targets)`` for a batch of that size (inputs a tensor
    or a tuple, targets a tensor, a tuple or None); ``loss_fn(output, *targets)`` is the loss.
    The step is captured at ``sizes`` (default 1, 2, 4), modelled per node, searched with the
    planner (``strategy``, ``time_limit`` seconds per plan, ``transfer`` to allow swaps,
    ``server`` to plan on a memplan service), confirmed by capturing at B and B + 1, and B's
    plan is run once with ``execute()`` (``run=False`` skips it). ``method="trial"`` captures
    and plans at every size from 1 up instead. ``captures`` (size -> CapturedStep), when given,
    is read and filled: searches sharing it plan on the same measurements (each capture times
    the operators anew, and timings vary by a few percent between captures). See the module
    comment."""
    return _max_size(
        model, make_batch, loss_fn, device_bytes, max_overhead, sizes=sizes, limit=limit, method=method, strategy=strategy,
        time_limit=time_limit, transfer=transfer, server=server, repeats=repeats, run=run, cost_degree=1, captures=captures,
    )


def max_seq_len(
    model: torch.nn.Module,
    make_batch: Callable[[int], Batch],
    loss_fn: Callable[..., torch.Tensor],
    device_bytes: int,
    max_overhead: float = 0.1,
    *,
    sizes: Sequence[int] = (16, 32, 64),
    limit: int = 1 << 16,
    method: str = "model",
    strategy: str = "auto",
    time_limit: Optional[float] = 5.0,
    transfer: Union[None, str, Dict[str, float]] = None,
    server: Optional[str] = None,
    repeats: int = 3,
    run: bool = True,
    captures: Optional[Dict[int, CapturedStep]] = None,
) -> SizeResult:
    """The largest sequence length L whose training step fits ``device_bytes`` within
    ``max_overhead``: ``make_batch(length)`` returns ``(inputs, targets)`` for sequences of that
    length; the step is captured at ``sizes`` (default 16, 32, 64) and every node's bytes and
    cost modelled as a quadratic of the length (attention scores grow with its square).
    Otherwise as ``max_batch``."""
    return _max_size(
        model, make_batch, loss_fn, device_bytes, max_overhead, sizes=sizes, limit=limit, method=method, strategy=strategy,
        time_limit=time_limit, transfer=transfer, server=server, repeats=repeats, run=run, cost_degree=2, captures=captures,
    )
