"""What the allocator really does: every tensor allocation and free, from torch.profiler
(profile_memory=True, record_shapes=True), attributed to the marked region it happened in.

This is independent of memplan's own accounting (bytes of live values): it sees the
temporaries an operator allocates inside itself (im2col buffers, softmax and attention
scratch, the workspace of a fused backward) and every copy the executor makes. Python
stacks (with_stack=True) are not recorded: they add a profiler event per Python call and
nothing to the allocation events.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Tuple

from torch._C._profiler import _EventType
from torch.autograd.profiler import record_function
from torch.profiler import ProfilerActivity, profile

__all__ = ["Allocation", "AllocationTrace", "marker"]

# Names of the regions whose allocations are attributed (record_function ranges).
MARKER_PREFIX = "memplan."


@dataclass
class Allocation:
    """One allocator event: size > 0 allocates, size < 0 frees."""

    time_ns: int
    size: int
    ptr: int
    device: str
    # The innermost memplan region it happened in ("memplan.step.12"), if any.
    region: Optional[str]


def marker(name: str):
    """A named region for AllocationTrace (a record_function range)."""
    return record_function(MARKER_PREFIX + name)


class AllocationTrace:
    """Records allocator events on the CPU while active (a context manager). CUDA
    allocations are recorded too when the step runs on a GPU, but execute() reads the
    CUDA allocator's own peak statistics instead."""

    def __init__(self) -> None:
        self.events: List[Allocation] = []
        self._profile: Optional[profile] = None

    def __enter__(self) -> "AllocationTrace":
        activities = [ProfilerActivity.CPU]
        self._profile = profile(activities=activities, profile_memory=True, record_shapes=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._profile.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        assert self._profile is not None
        self._profile.__exit__(*exc)
        if exc[0] is None:
            self.events = sorted(_allocations(self._profile), key=lambda event: event.time_ns)
        self._profile = None

    def timeline(self, device: str = "cpu", exclude: Optional[set] = None) -> Iterator[Tuple[Allocation, int, int]]:
        """(event, live bytes before it, live bytes after it) in time order, counting only
        blocks allocated within the trace (the profiler does not report frees of blocks
        allocated before it began). Allocations in a region named in `exclude` are left
        out, with their frees."""
        live: Dict[int, int] = {}
        skipped = set()
        total = 0
        for event in self.events:
            if event.device != device:
                continue
            before = total
            if event.size > 0:
                if exclude and event.region in exclude:
                    skipped.add(event.ptr)
                    continue
                live[event.ptr] = event.size
                total += event.size
            elif event.ptr in skipped:
                skipped.discard(event.ptr)
                continue
            elif event.ptr in live:
                total -= live.pop(event.ptr)
            else:
                continue
            yield event, before, total

    def region_peaks(self, device: str = "cpu", exclude: Optional[set] = None) -> Dict[str, Tuple[int, int]]:
        """Per region with events: (live bytes when its first event came, the most live
        bytes while it ran)."""
        peaks: Dict[str, Tuple[int, int]] = {}
        for event, before, after in self.timeline(device, exclude):
            if event.region is None:
                continue
            start, peak = peaks.get(event.region, (before, before))
            peaks[event.region] = (start, max(peak, before, after))
        return peaks

    def peak(self, device: str = "cpu", exclude: Optional[set] = None) -> int:
        """The most bytes allocated within the trace live at once."""
        return max((after for _, _, after in self.timeline(device, exclude)), default=0)


def _region(event) -> Optional[str]:
    parent = event.parent
    while parent is not None:
        if parent.name.startswith(MARKER_PREFIX):
            return parent.name[len(MARKER_PREFIX) :]
        parent = parent.parent
    return None


def _allocations(prof: profile) -> List[Allocation]:
    """The allocation events of a finished profile, with the region of each."""
    found: List[Allocation] = []
    stack = list(prof.profiler.kineto_results.experimental_event_tree())
    while stack:
        event = stack.pop()
        kind, fields = event.typed
        if kind == _EventType.Allocation:
            device = fields.device
            name = device.type if device.index is None or device.type == "cpu" else f"{device.type}:{device.index}"
            found.append(Allocation(event.start_time_ns, int(fields.alloc_size), int(fields.ptr), name, _region(event)))
        stack.extend(event.children)
    return found
