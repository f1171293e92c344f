"""Repeated operator calls at capture: the faster capture (reuse_repeats, the default)
gives the graph of the straightforward one, which runs every operator on real tensors."""

from __future__ import annotations

import importlib

import pytest
import torch
import torch.nn as nn

import memplan_torch as mt
from conftest import AttentionBlock
from helpers import loss_fn
from memplan_torch.repeats import RepeatedCalls


class MlpBlock(nn.Module):
    """Pre-norm GELU MLP with a residual."""

    def __init__(self, dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.up = nn.Linear(dim, 2 * dim)
        self.down = nn.Linear(2 * dim, dim)

    def forward(self, x):
        return x + self.down(nn.functional.gelu(self.up(self.norm(x))))


class TinyDecoder(nn.Module):
    """Equal layers of attention and MLP blocks over a token embedding: the repeats that
    reuse_repeats skips, between a first and a last part that differ."""

    def __init__(self, vocabulary: int = 50, dim: int = 32, heads: int = 4, layers: int = 4):
        super().__init__()
        self.embed = nn.Embedding(vocabulary, dim)
        self.layers = nn.Sequential(*[nn.Sequential(AttentionBlock(dim, heads), MlpBlock(dim)) for _ in range(layers)])
        self.head = nn.Linear(dim, vocabulary)

    def forward(self, tokens):
        return self.head(self.layers(self.embed(tokens))).mean(1)


FIELDS = ("id", "op", "kind", "inputs", "bytes", "workspaceBytes", "keep", "recomputable")


def structure(graph):
    return graph["residentBytes"], [tuple(node.get(field) for field in FIELDS) for node in graph["nodes"]]


@pytest.fixture(scope="module")
def decoder_captures():
    torch.manual_seed(4)
    model = TinyDecoder()
    tokens = torch.randint(0, 50, (2, 16))
    targets = torch.randint(0, 50, (2,))
    fast = mt.capture(model, tokens, loss_fn, targets, repeats=1)
    slow = mt.capture(model, tokens, loss_fn, targets, repeats=1, reuse_repeats=False)
    return fast, slow


def test_reusing_repeats_gives_the_straightforward_graph(decoder_captures):
    fast, slow = decoder_captures
    # Same ids, operators, kinds, inputs, bytes, operator temporaries and keep flags.
    assert structure(fast.graph) == structure(slow.graph)
    assert any(node.get("workspaceBytes") for node in fast.graph["nodes"])
    # The fast capture did skip runs: each of the 3 later layers repeats the first one's
    # fresh-output calls in the forward pass, and the backward pass repeats too.
    assert slow.reused_calls == 0
    per_layer = sum(1 for node in fast.graph["nodes"] if node["kind"] == "forward") // 4
    assert fast.reused_calls >= 3 * per_layer
    # Repeated calls share one measured cost, in both captures.
    by_id = {node["id"]: node for node in fast.graph["nodes"]}
    mms = [node for node in fast.graph["nodes"] if node["op"] == "addmm" and node["bytes"] == 32 * 64 * 4]
    assert len(mms) == 4 and len({by_id[node["id"]]["cost"] for node in mms}) == 1


def test_a_reused_capture_executes(decoder_captures):
    fast, _ = decoder_captures
    # The program behind the graph runs the real step: the no-remat schedule gives the
    # eager loss on the captured inputs, and the memory the graph predicts.
    schedule = mt.no_remat_schedule(fast.graph)
    run = mt.run_schedule(fast, schedule, fast.example_inputs)
    (loss_owner,) = fast.program.owners(fast.program.loss_node)
    tokens, targets = fast.example_inputs
    torch.testing.assert_close(run.env[loss_owner], loss_fn(fast.model(tokens), targets).detach(), rtol=1e-5, atol=1e-6)
    assert run.step_bytes == mt.replay_memory(fast.graph, schedule)


def test_calls_repeat_only_with_equal_layouts_and_no_writes():
    calls = RepeatedCalls()
    left, right = torch.randn(4, 8), torch.randn(8, 4)
    add = torch.ops.aten.add.Tensor
    # The values do not matter, the layouts do.
    assert calls.key(add, (left, left), {}) == calls.key(add, (torch.zeros(4, 8), torch.ones(4, 8)), {})
    assert calls.key(add, (left, left), {}) != calls.key(add, (left, right.t()), {})
    assert calls.key(add, (left, left), {"alpha": 2}) != calls.key(add, (left, left), {})
    # Operators that write into an argument, and Python functions, always run.
    assert calls.key(torch.ops.aten.add_.Tensor, (left, left), {}) is None
    assert calls.key(torch.ops.aten.copy_.default, (left, left), {}) is None
    assert calls.key(max, (1, 2), {}) is None
    # Disabled, nothing repeats.
    assert RepeatedCalls(enabled=False).key(add, (left, left), {}) is None
    key = calls.key(add, (left, left), {})
    assert calls.stand_in(key) is None
    made = add(left, left)
    calls.remember(key, made)
    assert calls.stand_in(key) is made and calls.reused == 1


class BucketedPositions(nn.Module):
    """An index computed from floats, as T5's relative-position buckets are: exp of small
    positions cast to integers picks rows of a small table. An earlier exp of the same
    layout makes large values, so its outputs in place of this one's would index past
    the table."""

    def __init__(self, dim: int = 8, rows: int = 5):
        super().__init__()
        self.table = nn.Embedding(rows, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        positions = torch.arange(x.shape[1], device=x.device, dtype=torch.float32)
        scale = torch.exp(positions * 3.0)  # large: up to e^21
        buckets = torch.exp(positions * 0.25).long() - 1  # 0 .. 4 for 8 positions
        return self.proj(x / scale.max()) + self.table(buckets)


def _bucketed_case():
    torch.manual_seed(0)
    return BucketedPositions(), torch.randn(2, 8, 8), torch.randint(0, 8, (2, 8))


def bucket_loss(output, targets):
    return loss_fn(output.reshape(-1, 8), targets.reshape(-1))


def test_values_that_decide_an_index_run_on_their_own_data():
    model, inputs, targets = _bucketed_case()
    captured = mt.capture(model, inputs, bucket_loss, targets, repeats=1)
    plain = mt.capture(model, inputs, bucket_loss, targets, repeats=1, reuse_repeats=False)
    assert [node["bytes"] for node in captured.graph["nodes"]] == [node["bytes"] for node in plain.graph["nodes"]]
    result = mt.execute(mt.plan(captured, "100%", strategy="checkpoint-all"))
    eager = bucket_loss(model(inputs), targets)
    torch.testing.assert_close(result.loss, eager.detach(), rtol=1e-6, atol=0)


def test_a_capture_whose_stand_ins_fail_runs_every_operator(monkeypatch):
    # Without the rule above, the second exp takes the first's outputs and the embedding
    # indexes past its table: capture then runs every operator rather than fail.
    # The package exports the function capture under the module's name.
    capture_module = importlib.import_module("memplan_torch.capture")
    monkeypatch.setattr(capture_module, "_exact_nodes", lambda graph: set())
    model, inputs, targets = _bucketed_case()
    runs = []
    original = capture_module._Tracer.run
    monkeypatch.setattr(capture_module._Tracer, "run", lambda self: runs.append(self.repeats.enabled) or original(self))
    captured = mt.capture(model, inputs, bucket_loss, targets, repeats=1)
    assert runs == [True, False] and captured.reused_calls == 0
