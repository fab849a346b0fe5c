"""Killing a fleet's worker in the middle of a batch, as the fault tests of RPCRunner and RPCBuilder do."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from schedopt.measurement.local_rpc import LoopbackFleet

BUSY_TIMEOUT_S = 60
"""How long the worker may take to get a job, and the batch to finish after the kill."""

Result = TypeVar("Result")


def kill_when_busy(fleet: LoopbackFleet, name: str, batch: Callable[[], Result]) -> Result:
    """Run `batch` in a thread, SIGKILL the worker `name` once it runs one of its jobs, and return
    what the batch returns."""
    victim = fleet.address_of(name)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(batch)
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while not fleet.client.processing().get(victim):
            assert time.monotonic() < deadline, f"{name} never got a job"
            time.sleep(0.05)
        os.kill(fleet.processes[name].pid, signal.SIGKILL)
        return running.result(timeout=BUSY_TIMEOUT_S)
