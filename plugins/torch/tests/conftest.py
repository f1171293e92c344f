"""Shared fixtures: small models and the memplan service (started for real when the
checkout has src/server.ts)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request

import pytest
import torch
import torch.nn as nn

from memplan_torch.planning import find_repo_root

# The machines that run these tests have 2 shared cores; OpenMP spinning across busy
# cores makes single operators 100x slower, so run PyTorch on one thread.
torch.set_num_threads(1)

REPO_ROOT = find_repo_root()
SERVER_SOURCE = REPO_ROOT / "src" / "server.ts" if REPO_ROOT else None
HAS_SERVER = bool(SERVER_SOURCE and SERVER_SOURCE.exists())

# Planning time limits stay short: the machine is shared. Small graphs need no more; the
# resnet18 cases (slow) get a little longer.
TIME_LIMIT = 2.0
RESNET_TIME_LIMIT = 5.0


class Block(nn.Module):
    """A residual block: conv, batch norm, relu, conv, plus the skip connection."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.norm = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return torch.relu(x + self.conv2(torch.relu(self.norm(self.conv1(x)))))


class SkipCNN(nn.Module):
    """A small CNN with skip connections (residual blocks and a long skip)."""

    def __init__(self, channels: int = 16, blocks: int = 4, classes: int = 10):
        super().__init__()
        self.stem = nn.Conv2d(3, channels, 3, padding=1)
        self.blocks = nn.ModuleList(Block(channels) for _ in range(blocks))
        self.head = nn.Linear(channels, classes)

    def forward(self, x):
        stem = torch.relu(self.stem(x))
        hidden = stem
        for block in self.blocks:
            hidden = block(hidden)
        hidden = hidden + stem
        return self.head(hidden.mean((2, 3)))


class AttentionBlock(nn.Module):
    """Pre-norm causal self-attention (scaled_dot_product_attention) with a residual."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x):
        batch, length, dim = x.shape
        shape = (batch, length, 3, self.heads, dim // self.heads)
        query, key, value = self.qkv(self.norm(x)).view(shape).permute(2, 0, 3, 1, 4)
        attended = nn.functional.scaled_dot_product_attention(query, key, value, is_causal=True)
        return x + self.out(attended.transpose(1, 2).reshape(batch, length, dim))


class AttentionStack(nn.Module):
    """A few attention blocks and a linear head over the mean token. The CPU kernel of
    scaled_dot_product_attention allocates blocks of scratch inside itself."""

    def __init__(self, dim: int = 64, heads: int = 4, depth: int = 3, classes: int = 10):
        super().__init__()
        self.blocks = nn.Sequential(*[AttentionBlock(dim, heads) for _ in range(depth)])
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        return self.head(self.blocks(x).mean(1))


def make_mlp(width: int = 64, depth: int = 8, classes: int = 10) -> nn.Module:
    """An MLP whose activations (batch 1024) dominate its parameters."""
    layers = [nn.Linear(32, width), nn.ReLU()]
    for _ in range(depth - 1):
        layers += [nn.Linear(width, width), nn.Tanh()]
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


@pytest.fixture(scope="session")
def cnn_case():
    torch.manual_seed(0)
    model = SkipCNN()
    inputs = torch.randn(8, 3, 32, 32)
    targets = torch.randint(0, 10, (8,))
    return model, inputs, targets


@pytest.fixture(scope="session")
def mlp_case():
    torch.manual_seed(1)
    model = make_mlp()
    inputs = torch.randn(1024, 32)
    targets = torch.randint(0, 10, (1024,))
    return model, inputs, targets


@pytest.fixture(scope="session")
def attention_case():
    torch.manual_seed(2)
    model = AttentionStack()
    inputs = torch.randn(4, 512, 64)
    targets = torch.randint(0, 10, (4,))
    return model, inputs, targets


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def server_url():
    """Starts the real memplan service (node --import tsx src/server.ts) on a free port."""
    if not HAS_SERVER:
        pytest.skip("src/server.ts is not in this checkout yet")
    port = _free_port()
    env = dict(os.environ, PORT=str(port), HOST="127.0.0.1")
    env["MEMPLAN_DATA_DIR"] = ":memory:"
    env.pop("MEMPLAN_API_KEYS", None)
    process = subprocess.Popen(
        ["node", "--import", "tsx", "src/server.ts"],
        cwd=str(REPO_ROOT),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode(errors="replace")
                pytest.fail(f"memplan service exited with {process.returncode}: {output[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        json.loads(response.read())
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("memplan service did not answer /health within 60 s")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
