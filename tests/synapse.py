"""A real, throwaway Synapse homeserver for the tests.

Synapse is installed from PyPI into its own virtual environment (its
dependencies must not mix with the bot's), once, beside the repository. Each
server listens on 127.0.0.1 only, has no federation, and registers users with
the shared-secret admin API.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SYNAPSE_VERSION = "1.163.2"
VENV = ROOT / ".synapse-venv"
SERVER_NAME = "localhost"


def synapse_python() -> Path:
    """The Python of Synapse's own environment, installing it on first use."""
    python = VENV / "bin" / "python"
    marker = VENV / f".installed-{SYNAPSE_VERSION}"
    if marker.exists():
        return python
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(ROOT / ".synapse-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            if VENV.exists():
                shutil.rmtree(VENV)
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
            done = subprocess.run(
                [str(python), "-m", "pip", "install", "-q", f"matrix-synapse=={SYNAPSE_VERSION}"],
                capture_output=True, text=True,
            )
            if done.returncode != 0:
                raise RuntimeError(f"installing Synapse failed:\n{done.stdout}\n{done.stderr}")
            marker.touch()
    return python


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Account:
    user_id: str
    password: str
    access_token: str
    device_id: str


class Synapse:
    """One homeserver process; can be stopped and started again on the same data."""

    def __init__(self, workdir: Path, *, message_rate: float = 1000.0, message_burst: int = 1000) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.shared_secret = secrets.token_hex(16)
        self.message_rate, self.message_burst = message_rate, message_burst
        self.process: subprocess.Popen | None = None
        self._config = workdir / "homeserver.yaml"

    def _write_config(self) -> None:
        python = synapse_python()
        self.workdir.mkdir(parents=True, exist_ok=True)
        generated = self.workdir / "generated.yaml"
        if not generated.exists():
            subprocess.run(
                [str(python), "-m", "synapse.app.homeserver", "--server-name", SERVER_NAME,
                 "--config-path", str(generated), "--generate-config", "--report-stats=no"],
                cwd=self.workdir, check=True, capture_output=True,
            )
        lenient = {"per_second": 1000, "burst_count": 1000}
        config = {
            "server_name": SERVER_NAME,
            "pid_file": str(self.workdir / "homeserver.pid"),
            "listeners": [{
                "port": self.port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False,
                "x_forwarded": False, "resources": [{"names": ["client"], "compress": False}],
            }],
            "database": {"name": "sqlite3", "args": {"database": str(self.workdir / "homeserver.db")}},
            "log_config": str(self.workdir / f"{SERVER_NAME}.log.config"),
            "media_store_path": str(self.workdir / "media"),
            "registration_shared_secret": self.shared_secret,
            "report_stats": False,
            "macaroon_secret_key": "test-macaroon-" + self.shared_secret,
            "form_secret": "test-form-" + self.shared_secret,
            "signing_key_path": str(self.workdir / f"{SERVER_NAME}.signing.key"),
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "bcrypt_rounds": 4,
            "presence": {"enabled": False},
            "enable_registration": False,
            "rc_message": {"per_second": self.message_rate, "burst_count": self.message_burst},
            "rc_registration": lenient,
            "rc_login": {"address": lenient, "account": lenient, "failed_attempts": lenient},
            "rc_joins": {"local": lenient, "remote": lenient},
            "rc_joins_per_room": lenient,
            "rc_invites": {"per_room": lenient, "per_user": lenient, "per_issuer": lenient},
            "rc_admin_redaction": lenient,
            "rc_room_creation": lenient,
            "rc_key_requests": lenient,
            "rc_3pid_validation": lenient,
        }
        self._config.write_text(json.dumps(config, indent=1))
        # Quieter logs, in a file of their own.
        log_config = self.workdir / f"{SERVER_NAME}.log.config"
        text = log_config.read_text().replace("level: INFO", "level: WARNING")
        log_config.write_text(text.replace(f"{SERVER_NAME}.log", str(self.workdir / "homeserver.log")))

    def start(self, timeout: float = 60) -> None:
        if not self._config.exists():
            self._write_config()
        log = open(self.workdir / "stdout.log", "ab")
        self.process = subprocess.Popen(
            [str(synapse_python()), "-m", "synapse.app.homeserver", "--config-path", str(self._config)],
            cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Synapse exited; see {self.workdir / 'stdout.log'}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("Synapse did not answer in time")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    # ------------------------------------------------------------- admin API

    def _request(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")

    def register(self, localpart: str, *, admin: bool = False, password: str | None = None) -> Account:
        password = password or secrets.token_hex(8)
        nonce = self._request("GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode(),
                                 b"admin" if admin else b"notadmin"]))
        result = self._request("POST", "/_synapse/admin/v1/register", {
            "nonce": nonce, "username": localpart, "password": password, "admin": admin, "mac": mac.hexdigest(),
        })
        return Account(result["user_id"], password, result["access_token"], result["device_id"])

    def override_ratelimit(self, admin: Account, user_id: str, per_second: float, burst: int) -> None:
        self._request(
            "POST", f"/_synapse/admin/v1/users/{user_id}/override_ratelimit",
            {"messages_per_second": per_second, "burst_count": burst}, token=admin.access_token,
        )


