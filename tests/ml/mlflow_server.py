"""A real ``mlflow server`` (sqlite backend, 127.0.0.1, a free port) for the tests.

MLflow lives in its own venv (its pins conflict with ours), created by ``.ci/run``:
``/tmp/impact-check-mlflow-venv`` (override with ``IMPACT_CHECK_MLFLOW_VENV``). Outside CI
the tests skip when it is missing; in CI (``CI`` set) they fail.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

VENV = Path(os.environ.get("IMPACT_CHECK_MLFLOW_VENV", "/tmp/impact-check-mlflow-venv"))
LOGGER = Path(__file__).parent / "log_models.py"


def mlflow_bin() -> Path:
    """The MLflow venv's ``bin`` directory, or skip (fail in CI)."""
    binary = VENV / "bin" / "mlflow"
    if not binary.exists():
        if os.environ.get("CI"):
            pytest.fail(f"MLflow not found at {binary}; .ci/run installs it in its own venv")
        pytest.skip(
            f"MLflow venv not installed at {VENV} (see .ci/run: pip install 'mlflow[auth]')"
        )
    return VENV / "bin"


@dataclass
class Server:
    """A running tracking server and what the test logged into it."""

    url: str
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)  # the client's credentials, if any
    logged: dict[str, dict[str, str]] = field(default_factory=dict)

    def log(self, *scenarios: str) -> None:
        """Log models through the real MLflow client (tests/mlflow/log_models.py)."""
        proc = subprocess.run(
            [str(mlflow_bin() / "python"), "-W", "ignore", str(LOGGER), self.url, *scenarios],
            cwd=self.workdir,
            env={**_clean_env(), **self.env, "MLFLOW_TRACKING_URI": self.url},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr[-4000:]
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                self.logged[entry["model"]] = entry


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def mlflow_server(workdir: Path, basic_auth: bool = False) -> Iterator[Server]:
    """Start ``mlflow server`` and wait for /health; stop it (its process group) at the end.

    With ``basic_auth`` the server runs ``--app-name basic-auth``; MLflow ships no default
    admin password, so one is generated and set through the auth config file.
    """
    bindir = mlflow_bin()
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = _clean_env()
    args = [
        str(bindir / "mlflow"),
        "server",
        "--backend-store-uri",
        f"sqlite:///{workdir / 'mlflow.db'}",
        "--artifacts-destination",
        str(workdir / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    client_env: dict[str, str] = {}
    if basic_auth:
        password = secrets.token_urlsafe(16)
        config = workdir / "basic_auth.ini"
        config.write_text(
            "[mlflow]\n"
            "default_permission = READ\n"
            f"database_uri = sqlite:///{workdir / 'auth.db'}\n"
            "admin_username = admin\n"
            f"admin_password = {password}\n"
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        )
        env["MLFLOW_AUTH_CONFIG_PATH"] = str(config)
        env["MLFLOW_FLASK_SERVER_SECRET_KEY"] = secrets.token_hex(16)
        args += ["--app-name", "basic-auth"]
        client_env = {"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": password}
    log = (workdir / "server.log").open("w")
    proc = subprocess.Popen(
        args, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, workdir / "server.log")
        yield Server(url, workdir, client_env)
    finally:
        _stop(proc)
        log.close()


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"mlflow server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"mlflow server not healthy after 120 s: {log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server's own process group (uvicorn/gunicorn workers included)."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _clean_env() -> dict[str, str]:
    """The environment without our venv's variables (MLflow runs with its own Python)."""
    drop = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("MLFLOW_")}
    env["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    env["GIT_PYTHON_REFRESH"] = "quiet"
    return env
