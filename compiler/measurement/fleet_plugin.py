"""`FleetPlugin`: what the worker plugins of `RPCRunner` and `RPCBuilder` share.

A fleet client registers its plugin on every worker, once per fleet; the
plugin keeps the worker's measuring or compiling processes between jobs,
and each Dask task of a job finds it on the worker it runs on. Jobs carry
their task pickled, and a worker unpickles each task once.
"""

from __future__ import annotations

import functools
import pickle
from typing import ClassVar, Self

from distributed import WorkerPlugin, get_worker

from schedopt.errors import SchedOptError
from schedopt.search_task import SearchTask


class PickledTasks:
    """The pickles of a batch's tasks, each made once: the candidates of a round share their task."""

    def __init__(self) -> None:
        self._by_id: dict[int, bytes] = {}

    def of(self, task: SearchTask) -> bytes:
        if id(task) not in self._by_id:
            self._by_id[id(task)] = pickle.dumps(task)
        return self._by_id[id(task)]


@functools.lru_cache(maxsize=64)
def unpickle_task(data: bytes) -> SearchTask:
    """A task from its pickle, once per task: unpickling parses the DAG's IR, the candidates of a
    round share their task, and a worker would otherwise pay that for each."""
    return pickle.loads(data)


class FleetPlugin(WorkerPlugin):
    """A worker plugin named `name`, which the fleet client `registered_by` registers."""

    name: ClassVar[str]
    registered_by: ClassVar[str]
    idempotent = True
    """Registered once per fleet: a second client must not stop the processes of the first one's jobs."""

    @classmethod
    def on_this_worker(cls) -> Self:
        """The plugin of the worker that runs the calling Dask task."""
        worker = get_worker()
        plugin = worker.plugins.get(cls.name)
        if not isinstance(plugin, cls):
            raise SchedOptError(
                f"worker {worker.address} has no {cls.name} plugin ({cls.registered_by} registers it)"
            )
        return plugin
