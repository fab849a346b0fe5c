"""Seeded sampling of random legal schedules, to test lowering against numpy.

Each draw applies a random sequence of State primitives with random
arguments; a primitive the State refuses (ScheduleError) is skipped, so the
result is always a legal state. The sampler favours structure that stresses
bound inference: splits with non-dividing factors, compute_at at every
depth, inlining, cache stages, rfactor.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from schedopt.compute_dag import ComputeDAG
from schedopt.errors import ScheduleError
from schedopt.loop_state import ComputeAtKind, IteratorKind, StageKind, State


def _compute_stages(state: State) -> list[str]:
    return [
        s.name
        for s in state.stages
        if s.kind == StageKind.COMPUTE and s.compute_at != ComputeAtKind.INLINED and s.iters
    ]


def _split(state: State, rng: random.Random) -> None:
    stage = state[rng.choice(_compute_stages(state))]
    it = rng.choice(stage.iters)
    parts = rng.choice([1, 1, 2])
    lengths = [rng.choice([1, 2, 3, 4, 5, 8]) for _ in range(parts)]
    state.split(stage.name, it, lengths, inner_to_outer=rng.random() < 0.8)


def _fuse(state: State, rng: random.Random) -> None:
    stage = state[rng.choice(_compute_stages(state))]
    if len(stage.iters) < 2:
        return
    start = rng.randrange(len(stage.iters) - 1)
    state.fuse(stage.name, [start, start + 1])


def _reorder(state: State, rng: random.Random) -> None:
    stage = state[rng.choice(_compute_stages(state))]
    order = list(range(len(stage.iters)))
    rng.shuffle(order)
    state.reorder(stage.name, order)


def _annotate(state: State, rng: random.Random) -> None:
    stage = state[rng.choice(_compute_stages(state))]
    it = rng.choice(stage.iters)
    kind = rng.choice(["parallel", "vectorize", "unroll"])
    if kind == "unroll" and (it.extent is None or it.extent > 16):
        return
    getattr(state, kind)(stage.name, it)


def _pragma(state: State, rng: random.Random) -> None:
    stage = state[rng.choice(_compute_stages(state))]
    state.pragma(stage.name, 0, f"auto_unroll_max_step${rng.choice([0, 16, 64])}")


def _compute_at(state: State, rng: random.Random) -> None:
    producer = rng.choice(_compute_stages(state))
    consumers = [c for c in _compute_stages(state) if state.reaches(producer, c)]
    if not consumers:
        return
    target = state[rng.choice(consumers)]
    state.compute_at(producer, target.name, rng.choice(target.iters))


def _compute_inline(state: State, rng: random.Random) -> None:
    state.compute_inline(rng.choice(_compute_stages(state)))


def _compute_root(state: State, rng: random.Random) -> None:
    state.compute_root(rng.choice(_compute_stages(state)))


def _cache_write(state: State, rng: random.Random) -> None:
    state.cache_write(rng.choice(_compute_stages(state)), "local")


def _cache_read(state: State, rng: random.Random) -> None:
    tensor = rng.choice([s.name for s in state.stages if state.consumers.get(s.name)])
    readers = [r for r in state.consumers[tensor] if state[r].compute_at != ComputeAtKind.INLINED]
    if readers:
        state.cache_read(tensor, "shared", [rng.choice(readers)])


def _rfactor(state: State, rng: random.Random) -> None:
    stage = state[rng.choice(_compute_stages(state))]
    reduce = [it for it in stage.iters if it.kind == IteratorKind.REDUCE]
    if reduce:
        state.rfactor(stage.name, rng.choice(reduce), rng.randrange(len(stage.shape) + 1))


def _storage_align(state: State, rng: random.Random) -> None:
    stage = state[rng.choice(_compute_stages(state))]
    state.storage_align(stage.name, stage.iters[0], rng.choice([4, 8, 16]), rng.randrange(4))


PRIMITIVES: list[tuple[Callable[[State, random.Random], None], int]] = [
    (_split, 6),
    (_fuse, 2),
    (_reorder, 3),
    (_annotate, 3),
    (_pragma, 1),
    (_compute_at, 4),
    (_compute_inline, 2),
    (_compute_root, 1),
    (_cache_write, 1),
    (_cache_read, 1),
    (_rfactor, 1),
    (_storage_align, 1),
]


def random_state(dag: ComputeDAG, seed: int, n_steps: int = 8) -> State:
    """A random legal state of `dag` reached by up to `n_steps` primitives."""
    rng = random.Random(seed)
    state = dag.get_init_state()
    functions = [f for f, _ in PRIMITIVES]
    weights = [w for _, w in PRIMITIVES]
    for _ in range(n_steps):
        primitive = rng.choices(functions, weights)[0]
        try:
            primitive(state, rng)
        except ScheduleError:
            continue
    return state
