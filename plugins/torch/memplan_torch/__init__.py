"""memplan for PyTorch: capture a training step as a memplan Graph, plan it under a
device-memory budget, execute the plan literally and measure that the prediction holds."""

from .capture import CapturedStep, capture, no_remat_schedule
from .execute import ExecutionResult, execute, replay_memory, run_schedule
from .optimize import MemplanStep, SelectiveCheckpoint, checkpoint_policy, optimize, selective_checkpoint
from .planning import MemplanError, Plan, parse_budget, plan

__all__ = [
    "CapturedStep",
    "ExecutionResult",
    "MemplanError",
    "MemplanStep",
    "Plan",
    "SelectiveCheckpoint",
    "capture",
    "checkpoint_policy",
    "execute",
    "no_remat_schedule",
    "optimize",
    "parse_budget",
    "plan",
    "replay_memory",
    "run_schedule",
    "selective_checkpoint",
]

__version__ = "0.1.0"
