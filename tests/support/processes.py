"""Ending the processes a test started, by PID."""

from __future__ import annotations

import signal
import subprocess
import time


def terminate(process: subprocess.Popen[str], *, timeout: float = 15.0) -> float:
    """SIGTERM by PID; the seconds until the process has exited (killed past ``timeout``)."""
    started = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
    finally:
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    return time.perf_counter() - started
