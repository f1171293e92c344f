"""memplan for PyTorch: capture a training step as a memplan Graph, plan it under a
device-memory budget, execute the plan literally and measure that the prediction holds."""

from .capture import CapturedStep, capture
from .execute import ExecutionResult, execute, run_schedule
from .graph import no_remat_schedule, replay_memory
from .optimize import MemplanStep, SelectiveCheckpoint, checkpoint_policy, optimize, selective_checkpoint
from .planning import MemplanError, Plan, parse_budget, plan
from .program import Program
from .sizing import SizeResult, max_batch, max_seq_len

__all__ = [
    "CapturedStep",
    "ExecutionResult",
    "MemplanError",
    "MemplanStep",
    "Plan",
    "Program",
    "SelectiveCheckpoint",
    "SizeResult",
    "capture",
    "checkpoint_policy",
    "execute",
    "max_batch",
    "max_seq_len",
    "no_remat_schedule",
    "optimize",
    "parse_budget",
    "plan",
    "replay_memory",
    "run_schedule",
    "selective_checkpoint",
]

__version__ = "0.1.0"
