"""Operator calls that repeat an earlier one while capture runs the traced step on real
tensors: the layers of a transformer, the blocks of a ResNet stage.

A call is the operator with the layouts (shapes, strides, dtypes, devices) of its tensor
arguments and its other arguments as they are. What a call makes (how many outputs,
their layouts, the bytes of their storages, whether they are fresh or alias an argument)
follows from the call alone, the same reasoning fake tensors rest on. So when a call that
made fresh tensors comes again, capture does not run it: the first call's outputs stand in
for its value. They have the right layouts and realistic contents for the operators that
read them later, and they cost no time. Calls that made views or no tensors run every
time (they are cheap, and a view must alias its own arguments)."""

from __future__ import annotations

from typing import Any, Dict, Hashable, Optional

import torch

from .profile import operator_signature

__all__ = ["RepeatedCalls"]


class RepeatedCalls:
    """The outputs of the first run of each call that made fresh tensors, by signature.
    Disabled, it finds nothing and every operator runs (the straightforward capture)."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.outputs: Dict[Hashable, Any] = {}
        # How many operator runs the stand-ins saved.
        self.reused = 0

    def key(self, target: Any, args: Any, kwargs: Dict[str, Any]) -> Optional[Hashable]:
        """The call's signature, or None when it must run every time: disabled, not an ATen
        operator, or an operator that writes into an argument."""
        if not self.enabled:
            return None
        schema = getattr(target, "_schema", None)
        if not isinstance(target, torch._ops.OpOverload) or schema is None or schema.is_mutable:
            return None
        return operator_signature(target, args, kwargs)

    def stand_in(self, key: Optional[Hashable]) -> Optional[Any]:
        """The first run's outputs of a repeated call that made fresh tensors, else None."""
        if key is None:
            return None
        found = self.outputs.get(key)
        if found is not None:
            self.reused += 1
        return found

    def remember(self, key: Optional[Hashable], outputs: Any) -> None:
        """Keeps the outputs of a call that made fresh tensors, for its repeats."""
        if key is not None:
            self.outputs.setdefault(key, outputs)
