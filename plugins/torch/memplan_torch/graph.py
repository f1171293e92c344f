"""The contract Graph of a traced step (the JSON memplan plans), the no-remat schedule and
the contract's memory accounting of a schedule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Set

from .program import Program

__all__ = ["NodeMeasure", "no_remat_schedule", "op_name", "replay_memory", "to_graph"]


@dataclass
class NodeMeasure:
    """What profiling measured for one contract node."""

    bytes: int
    # Transient bytes while it computes: outputs it does not hold, plus the operator's
    # internal temporaries.
    workspace: int = 0
    cost: float = 0.0


def op_name(target: Any) -> str:
    """A short operator name such as "convolution" or "native_batch_norm_backward"."""
    name = getattr(target, "__name__", str(target))
    packet = getattr(target, "_overloadpacket", None)
    if packet is not None:
        name = getattr(packet, "__name__", name)
    return name.split(".")[0]


def to_graph(program: Program, measures: Dict[str, NodeMeasure], keep: Set[str], name: Optional[str]) -> Dict[str, Any]:
    """The contract Graph: nodes in execution order with bytes, cost and workspace."""
    nodes = []
    for cid in program.order:
        spec = program.specs[cid]
        measure = measures[cid]
        entry: Dict[str, Any] = {
            "id": cid,
            "op": "input" if spec.kind == "input" else op_name(spec.fx_node.target),
            "kind": spec.kind,
            "inputs": list(spec.inputs),
            "bytes": int(measure.bytes),
            "cost": measure.cost,
        }
        if measure.workspace:
            entry["workspaceBytes"] = int(measure.workspace)
        if not spec.recomputable:
            entry["recomputable"] = False
        if cid in keep:
            entry["keep"] = True
        options = program.options.get(cid)
        if options is not None and options.alternatives:
            entry["alternatives"] = [alternative.to_json() for alternative in options.alternatives]
        if options is not None and options.encodings:
            entry["encodings"] = [encoding.to_json() for encoding in options.encodings]
        nodes.append(entry)
    graph: Dict[str, Any] = {"residentBytes": program.resident_bytes(), "nodes": nodes}
    if name:
        graph["name"] = name
    return graph


def no_remat_schedule(graph: Dict[str, Any]) -> List[Dict[str, str]]:
    """Computes every node once in order and frees each value after its last use (keep
    nodes never): the schedule whose peak is the no-remat peak."""
    nodes = graph["nodes"]
    last_use: Dict[str, int] = {}
    for index, node in enumerate(nodes):
        last_use.setdefault(node["id"], index)
        for source in node.get("inputs", []):
            last_use[source] = index
    frees_at: Dict[int, List[str]] = {}
    for node in nodes:
        if not node.get("keep"):
            frees_at.setdefault(last_use[node["id"]], []).append(node["id"])
    schedule: List[Dict[str, str]] = []
    for index, node in enumerate(nodes):
        schedule.append({"op": "compute", "node": node["id"]})
        for cid in frees_at.get(index, []):
            schedule.append({"op": "free", "node": cid})
    return schedule


def replay_memory(graph: Dict[str, Any], schedule: Sequence[Dict[str, str]]) -> List[int]:
    """Device bytes at every step as the contract defines them (residentBytes included),
    node options too: a compute with "alt" has that alternative's workspace, an encode
    adds its form, a decode the value, and free / swapIn with "encoding" act on the form."""
    nodes = {node["id"]: node for node in graph["nodes"]}
    resident = int(graph.get("residentBytes", 0))
    live = 0
    out: List[int] = []
    for entry in schedule:
        op, cid = entry["op"], entry["node"]
        node = nodes[cid]
        bytes_ = node["bytes"]
        if "encoding" in entry:
            bytes_ = next(form["bytes"] for form in node.get("encodings", []) if form["name"] == entry["encoding"])
        during = live
        if op == "compute":
            workspace = node.get("workspaceBytes", 0)
            if entry.get("alt") not in (None, "default"):
                alternative = next(item for item in node.get("alternatives", []) if item["name"] == entry["alt"])
                workspace = alternative.get("workspaceBytes", 0)
            during = live + bytes_ + workspace
            live += bytes_
        elif op == "free":
            live -= bytes_
        elif op in ("swapIn", "encode"):
            live += bytes_
            during = live
        elif op == "decode":
            live += node["bytes"]
            during = live
        out.append(resident + during)
    return out
