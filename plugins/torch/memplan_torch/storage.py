"""Tensor storages: which storage a tensor lives in and how many bytes a value holds.
Every other module of the plugin counts memory through these."""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

import torch

__all__ = ["storage_key", "storage_bytes", "tensors_of"]


def storage_key(tensor: torch.Tensor) -> Optional[Tuple[str, int]]:
    """Identifies the storage a tensor lives in; None for an empty storage."""
    storage = tensor.untyped_storage()
    if storage.nbytes() == 0:
        return None
    return (str(tensor.device), storage.data_ptr())


def storage_bytes(value: Any) -> int:
    """Bytes of the storages a value (tensor or tuple of tensors) holds."""
    if isinstance(value, torch.Tensor):
        return value.untyped_storage().nbytes()
    if isinstance(value, (tuple, list)):
        return sum(storage_bytes(item) for item in value if item is not None)
    return 0


def tensors_of(value: Any) -> List[torch.Tensor]:
    """The tensors of a value: itself, or the tensor items of a tuple or list."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [item for item in value if isinstance(item, torch.Tensor)]
    return []
