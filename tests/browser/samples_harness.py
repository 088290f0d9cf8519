"""The sample merchant pages (examples/samples/app.py) as a real process next to `kassa demo`, with
the demo's keys: their server side calls kassa through the official stripe package."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from browser_harness import Demo, free_ports

SAMPLES_APP = Path(__file__).resolve().parents[2] / "examples" / "samples" / "app.py"


@dataclass
class Samples:
    url: str
    process: subprocess.Popen
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_samples(demo: Demo, workdir: Path, react_bundle: Path | None = None, timeout: float = 30) -> Samples:
    (port,) = free_ports(1)
    log_path = workdir / "samples.log"
    command = [sys.executable, str(SAMPLES_APP), "--port", str(port), "--kassa-url", demo.kassa_url,
               "--secret-key", demo.secret_key, "--publishable-key", demo.publishable_key]
    if react_bundle is not None:
        command += ["--react-bundle", str(react_bundle)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    samples = Samples(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the samples app exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(samples.url + "/healthz", timeout=1).status_code == 200:
                return samples
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            samples.stop()
            raise RuntimeError(f"the samples app did not answer within {timeout} s:\n{log_path.read_text()}")
        time.sleep(0.1)
