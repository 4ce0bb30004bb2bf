"""A real Airflow 3 (``airflow api-server`` on 127.0.0.1, sqlite, simple auth manager).

Airflow lives in its own venv, created by ``.ci/run``: ``/tmp/impact-check-airflow-venv``
(override with ``IMPACT_CHECK_AIRFLOW_VENV``). The DAGs are tests/data/airflow/dags/; their
assets are registered by ``airflow dags reserialize`` and the tasks named in ``runs`` are run
once with ``airflow dags test`` (their SQL operator fails to connect, which is fine: Airflow
has rendered and stored the SQL by then). Only the API server keeps running: no scheduler,
dag processor or triggerer (``airflow standalone`` runs all four and costs ~5 GB).

``python -m tests.airflow_live.airflow_server record`` re-records tests/data/airflow/recorded/.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

VENV = Path(os.environ.get("IMPACT_CHECK_AIRFLOW_VENV", "/tmp/impact-check-airflow-venv"))
DATA = Path(__file__).parent.parent / "data" / "airflow"
DAGS = DATA / "dags"
USER, PASSWORD = "impact", "impact-check-airflow-pw"
ALL_RUNS = ("train_churn", "order_counts", "score_customers")


def airflow_bin() -> Path | None:
    """The Airflow venv's ``bin`` directory, None when it is not installed."""
    binary = VENV / "bin" / "airflow"
    return binary.parent if binary.exists() else None


@dataclass
class Airflow:
    """A running API server: its URL, and timings of the set-up (seconds)."""

    url: str
    home: Path
    timings: dict[str, float]

    def token(self) -> str:
        answer = httpx.post(
            f"{self.url}/auth/token", json={"username": USER, "password": PASSWORD}, timeout=10
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def get(self, path: str, token: str) -> object:
        answer = httpx.get(
            f"{self.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        answer.raise_for_status()
        return answer.json()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(home: Path, port: int) -> dict[str, str]:
    drop = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("AIRFLOW")}
    (home / "passwords.json").write_text(json.dumps({USER: PASSWORD}))
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            # the SQL operators' connection: nothing listens there, so the tasks fail after
            # Airflow has rendered their SQL
            "AIRFLOW_CONN_WAREHOUSE": "postgres://user:pw@127.0.0.1:9/shop",
        }
    )
    return env


def _run(bindir: Path, env: dict[str, str], home: Path, *args: str) -> float:
    start = time.monotonic()
    proc = subprocess.run(
        [str(bindir / "airflow"), *args],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if args[:2] != ("dags", "test") and proc.returncode != 0:  # a dags test run fails by design
        raise AssertionError(f"airflow {' '.join(args)} failed: {proc.stderr[-3000:]}")
    return time.monotonic() - start


@contextmanager
def airflow_server(home: Path, runs: tuple[str, ...] = ALL_RUNS) -> Iterator[Airflow]:
    """Set up the database and the DAGs, run ``runs`` once, serve the API; stop it at the end."""
    bindir = airflow_bin()
    if bindir is None:
        raise FileNotFoundError(f"Airflow venv not installed at {VENV} (see .ci/run)")
    home.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = _env(home, port)
    timings = {
        "db migrate": _run(bindir, env, home, "db", "migrate"),
        "dags reserialize": _run(bindir, env, home, "dags", "reserialize"),
    }
    for dag in runs:
        timings[f"dags test {dag}"] = _run(bindir, env, home, "dags", "test", dag, "2026-02-01")
    log = (home / "api-server.log").open("w")
    start = time.monotonic()
    proc = subprocess.Popen(
        [str(bindir / "airflow"), "api-server", "--workers", "1"],
        cwd=home,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    (home / "api-server.pid").write_text(str(proc.pid))
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, home / "api-server.log")
        timings["api-server ready"] = time.monotonic() - start
        yield Airflow(url, home, timings)
    finally:
        _stop(proc)
        log.close()


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (from /proc)."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        pids += [int(c) for c in children]
    return total / 1024


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"airflow api-server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/api/v2/version", timeout=2).status_code in (200, 401):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"airflow api-server not ready after 120 s: {log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


# Requests recorded into tests/data/airflow/recorded/ (file name -> API path).
RECORDED = {
    "assets-limit100-offset0.json": "/api/v2/assets?limit=100&offset=0",
    "assets-limit1-offset0.json": "/api/v2/assets?limit=1&offset=0",
    "assets-limit1-offset1.json": "/api/v2/assets?limit=1&offset=1",
    "ti-train_churn-featurize.json": (
        "/api/v2/dags/train_churn/dagRuns/~/taskInstances"
        "?task_id=featurize&order_by=-run_after&limit=1"
    ),
    "ti-order_counts-count_orders.json": (
        "/api/v2/dags/order_counts/dagRuns/~/taskInstances"
        "?task_id=count_orders&order_by=-run_after&limit=1"
    ),
    "ti-score_customers-score.json": (
        "/api/v2/dags/score_customers/dagRuns/~/taskInstances"
        "?task_id=score&order_by=-run_after&limit=1"
    ),
}


def record(home: Path) -> None:
    """Start the real Airflow and write its answers to tests/data/airflow/recorded/."""
    out = DATA / "recorded"
    out.mkdir(parents=True, exist_ok=True)
    with airflow_server(home) as server:
        token = server.token()
        for name, path in RECORDED.items():
            body = {"request": f"GET {path}", "response": server.get(path, token)}
            (out / name).write_text(json.dumps(body, indent=2) + "\n")
        version = server.get("/api/v2/version", token)
        print(json.dumps({"version": version, "timings": server.timings}, indent=2))


if __name__ == "__main__":
    import tempfile

    if sys.argv[1:] != ["record"]:
        sys.exit("usage: python -m tests.airflow_live.airflow_server record")
    with tempfile.TemporaryDirectory() as tmp:
        record(Path(tmp))
