"""Starting servers as separate processes and reading their CPU and memory from /proc."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    port: int
    startup_s: float
    log_path: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def memory_kib(self) -> dict[str, int]:
        out = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":")
                out[key] = int(value.split()[0])
        return out

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start(
    name: str,
    args: list[str],
    env: dict[str, str] | None = None,
    port: int | None = None,
    timeout: float = 30.0,
) -> Server:
    port = port or free_port()
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "SECBOT_"))
    }
    full_env.update(env or {})
    full_env["PORT"] = str(port)
    # Logs go to a file: an unread pipe would fill and stall the server mid-benchmark.
    log_file = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *args, "--port", str(port)]
        if args[-1].endswith(("bench.fake_apis", "baseline_slack.py", "baseline_teams.py"))
        else [sys.executable, *args],
        env=full_env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )
    deadline = t0 + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=0.5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited: {Path(log_file.name).read_text()[-2000:]}")
        if time.perf_counter() > deadline:
            proc.kill()
            raise RuntimeError(f"{name} did not answer /healthz within {timeout} s")
        time.sleep(0.01)
    return Server(name, proc, port, time.perf_counter() - t0, log_file.name)
