"""Ask memplan for a plan: offline through the CLI, or from a running service over HTTP."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from .capture import CapturedStep

__all__ = ["plan", "Plan", "parse_budget", "find_repo_root", "MemplanError"]


class MemplanError(RuntimeError):
    """A planning request memplan refused or could not answer (code from its catalogue)."""

    def __init__(self, message: str, code: Optional[str] = None, body: Any = None):
        super().__init__(message)
        self.code = code
        self.body = body


class Plan:
    """A memplan Plan (the contract JSON) bound to the captured step it schedules."""

    def __init__(self, data: Dict[str, Any], captured: Optional[CapturedStep]):
        self.json = data
        self.captured = captured

    @property
    def status(self) -> str:
        return self.json["status"]

    @property
    def schedule(self) -> List[Dict[str, str]]:
        return self.json.get("schedule", [])

    @property
    def predicted(self) -> Optional[Dict[str, Any]]:
        return self.json.get("predicted")

    @property
    def budget_bytes(self) -> int:
        return self.json["budgetBytes"]

    @property
    def feasible(self) -> bool:
        return self.status not in ("infeasible", "error") and bool(self.schedule)

    def recomputed(self) -> List[str]:
        """Ids of nodes the plan computes more than once."""
        return [node["id"] for node in self.json.get("nodes", []) if node.get("computes", 0) > 1]

    def swapped(self) -> List[str]:
        """Ids of nodes the plan copies to host memory."""
        return [node["id"] for node in self.json.get("nodes", []) if node.get("swapOuts", 0) > 0]

    def __repr__(self) -> str:
        predicted = self.predicted or {}
        return (
            f"Plan(status={self.status!r}, strategy={self.json.get('strategy')!r}, budgetBytes={self.json.get('budgetBytes')}, "
            f"peakBytes={predicted.get('peakBytes')}, makespan={predicted.get('makespan')})"
        )


def parse_budget(budget: Union[str, float, int, Dict[str, Any]]) -> Dict[str, Any]:
    """"60%" or 0.6 -> {fraction: 0.6}; an int above 1 -> {bytes}; a dict passes through."""
    if isinstance(budget, dict):
        return dict(budget)
    if isinstance(budget, str):
        text = budget.strip()
        if text.endswith("%"):
            return {"fraction": float(text[:-1]) / 100}
        number = float(text)
        return {"fraction": number} if ("." in text or number <= 1) else {"bytes": int(number)}
    if isinstance(budget, bool):
        raise TypeError("budget must be a fraction, a percentage string or bytes")
    if isinstance(budget, float) or budget <= 1:
        return {"fraction": float(budget)}
    return {"bytes": int(budget)}


def _budget_argument(budget: Dict[str, Any]) -> str:
    if "bytes" in budget:
        return str(int(budget["bytes"]))
    # A bare fraction with a fraction part is read as a fraction by the CLI.
    return repr(float(budget["fraction"]))


def find_repo_root() -> Optional[Path]:
    """The memplan checkout: $MEMPLAN_ROOT, else the directory above plugins/torch."""
    env = os.environ.get("MEMPLAN_ROOT")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "bin" / "memplan.mjs").exists() and (parent / "solver").is_dir():
            return parent
    return None


def _graph_json(graph: Union[CapturedStep, Dict[str, Any]]) -> Dict[str, Any]:
    return graph.graph if isinstance(graph, CapturedStep) else graph


def plan(
    graph: Union[CapturedStep, Dict[str, Any]],
    budget: Union[str, float, int, Dict[str, Any]] = "60%",
    *,
    server: Optional[str] = None,
    strategy: str = "auto",
    time_limit: Optional[float] = None,
    transfer: Union[None, str, Dict[str, float]] = None,
    api_key: Optional[str] = None,
    wait: float = 10.0,
    poll_seconds: float = 0.5,
    timeout: float = 600.0,
) -> Plan:
    """Plans a captured step under a budget: with server=URL through the memplan service,
    otherwise offline with the memplan CLI of the checkout. budget: "60%", a fraction,
    bytes (an int above 1) or {"fraction"} / {"bytes"}; transfer: a preset name or
    {"bandwidth", "latency"} in bytes per microsecond and microseconds (allows swaps)."""
    captured = graph if isinstance(graph, CapturedStep) else None
    body: Dict[str, Any] = {"graph": _graph_json(graph), "budget": parse_budget(budget), "strategy": strategy}
    if time_limit is not None:
        body["timeLimitSeconds"] = time_limit
    if transfer is not None:
        body["transfer"] = transfer
    if server:
        data = _plan_remote(server.rstrip("/"), body, api_key, wait, poll_seconds, timeout)
    else:
        data = _plan_offline(body, timeout)
    return Plan(data, captured)


def _plan_offline(body: Dict[str, Any], timeout: float) -> Dict[str, Any]:
    root = find_repo_root()
    with tempfile.TemporaryDirectory(prefix="memplan-") as folder:
        graph_path = Path(folder) / "graph.json"
        plan_path = Path(folder) / "plan.json"
        graph_path.write_text(json.dumps(body["graph"]))
        arguments = [
            "plan",
            str(graph_path),
            "--budget",
            _budget_argument(body["budget"]),
            "--strategy",
            body["strategy"],
            "--out",
            str(plan_path),
            "--json",
        ]
        if "timeLimitSeconds" in body:
            arguments += ["--time-limit", str(body["timeLimitSeconds"])]
        transfer = body.get("transfer")
        if transfer is not None:
            text = transfer if isinstance(transfer, str) else f"{transfer['bandwidth']},{transfer.get('latency', 0)}"
            arguments += ["--transfer", text]
        if root is not None:
            command = ["node", str(root / "bin" / "memplan.mjs"), *arguments]
            cwd = str(root)
        elif shutil.which("npx"):
            command = ["npx", "memplan", *arguments]
            cwd = None
        else:
            raise MemplanError("memplan: no checkout found (set MEMPLAN_ROOT) and no npx on PATH")
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
        if plan_path.exists():
            return json.loads(plan_path.read_text())
        raise MemplanError(f"memplan plan failed (exit {done.returncode}): {done.stderr.strip() or done.stdout.strip()}")


def _request(method: str, url: str, body: Any, api_key: Optional[str]) -> tuple:
    data = None if body is None else json.dumps(body).encode()
    headers = {"accept": "application/json"}
    if data is not None:
        headers["content-type"] = "application/json"
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            payload = json.loads(text)
        except ValueError:
            payload = {"message": text.decode(errors="replace")}
        raise MemplanError(
            f"memplan service answered {error.code}: {payload.get('message', payload)}",
            code=payload.get("code") if isinstance(payload, dict) else None,
            body=payload,
        ) from None


def _plan_remote(
    server: str, body: Dict[str, Any], api_key: Optional[str], wait: float, poll: float, timeout: float
) -> Dict[str, Any]:
    # POST waits up to `wait` seconds (200 with the Plan); after that the job is polled.
    status, payload = _request("POST", f"{server}/v1/plans?wait={wait:g}", body, api_key)
    if status == 200:
        return payload
    job_id = payload["jobId"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, job = _request("GET", f"{server}/v1/jobs/{job_id}", None, api_key)
        if job["state"] == "done" and job.get("plan") is not None:
            return job["plan"]
        if job["state"] in ("failed", "cancelled"):
            error = job.get("error") or {}
            raise MemplanError(f"memplan job {job_id} {job['state']}: {error.get('message', '')}", code=error.get("code"), body=job)
        time.sleep(poll)
    raise MemplanError(f"memplan job {job_id} did not finish within {timeout} s")
