"""Seeded sampling of random legal schedules, to test lowering and round trips.

Each draw applies a random sequence of State primitives with random
arguments, all 14 steps among them; a primitive the State refuses
(ScheduleError) is skipped, so the result is always a legal state. The
sampler favours structure that stresses bound inference: splits with
non-dividing factors, follow splits, compute_at at every depth, inlining,
cache stages, rfactor.

`runnable=True` (the default) draws only schedules the CPU back end can run;
`runnable=False` also draws what only a program or a record can hold: GPU
bindings and split lengths left open (`?`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from schedopt.compute_dag import ComputeDAG
from schedopt.errors import ScheduleError
from schedopt.schedule.loop_state import State
from schedopt.schedule.stage import ComputeAtKind, IteratorKind, StageKind
from schedopt.schedule.transform_steps import SplitStep


@dataclass
class _Draw:
    state: State
    rng: random.Random
    runnable: bool

    def compute_stage(self):
        names = [
            s.name
            for s in self.state.stages
            if s.kind == StageKind.COMPUTE and s.compute_at != ComputeAtKind.INLINED and s.iters
        ]
        return self.state[self.rng.choice(names)]

    def splits(self) -> list[int]:
        return [i for i, step in enumerate(self.state.transform_steps) if isinstance(step, SplitStep)]


def _split(d: _Draw) -> None:
    stage = d.compute_stage()
    choices = [1, 2, 3, 4, 5, 8] if d.runnable else [None, 1, 2, 3, 4, 8]
    lengths = [d.rng.choice(choices) for _ in range(d.rng.choice([1, 1, 2]))]
    d.state.split(stage.name, d.rng.choice(stage.iters), lengths, inner_to_outer=d.rng.random() < 0.8)


def _follow_split(d: _Draw) -> None:
    splits = d.splits()
    if splits:
        stage = d.compute_stage()
        src = d.rng.choice(splits)
        # Up to len + 1, as TVM allows: all the source's lengths and an inner part of length 1.
        n_split = d.rng.randint(1, len(d.state.transform_steps[src].lengths) + 1)  # type: ignore[attr-defined]
        d.state.follow_split(stage.name, d.rng.choice(stage.iters), src, n_split)


def _follow_fused_split(d: _Draw) -> None:
    splits = d.splits()
    if splits:
        stage = d.compute_stage()
        sources = d.rng.sample(splits, d.rng.randint(1, min(2, len(splits))))
        level = d.rng.randint(0, 1)
        d.state.follow_fused_split(
            stage.name, d.rng.choice(stage.iters), sources, level, d.rng.random() < 0.5
        )


def _fuse(d: _Draw) -> None:
    stage = d.compute_stage()
    start = d.rng.randrange(len(stage.iters))
    count = d.rng.randint(1, min(3, len(stage.iters) - start))
    d.state.fuse(stage.name, list(range(start, start + count)))


def _reorder(d: _Draw) -> None:
    stage = d.compute_stage()
    order = list(range(len(stage.iters)))
    d.rng.shuffle(order)
    d.state.reorder(stage.name, order)


def _annotate(d: _Draw) -> None:
    stage = d.compute_stage()
    it = d.rng.choice(stage.iters)
    kind = d.rng.choice(["parallel", "vectorize", "unroll"] + ([] if d.runnable else ["bind"]))
    if kind == "bind":
        d.state.bind(stage.name, it, d.rng.choice(["vthread", "blockIdx.y", "threadIdx.z"]))
    elif kind == "unroll" and (it.extent is None or it.extent > 16):
        return
    else:
        getattr(d.state, kind)(stage.name, it)


def _pragma(d: _Draw) -> None:
    stage = d.compute_stage()
    step = d.rng.choice([0, 16, 64])
    d.state.pragma(stage.name, d.rng.choice(stage.iters), f"auto_unroll_max_step${step}")


def _storage_align(d: _Draw) -> None:
    stage = d.compute_stage()
    d.state.storage_align(stage.name, d.rng.choice(stage.iters), d.rng.choice([4, 8, 16]), d.rng.randrange(4))


def _compute_at(d: _Draw) -> None:
    producer = d.compute_stage().name
    target = d.compute_stage()
    if d.state.reaches(producer, target.name) or not d.runnable:
        d.state.compute_at(producer, target.name, d.rng.choice(target.iters))


def _compute_inline(d: _Draw) -> None:
    d.state.compute_inline(d.compute_stage().name)


def _compute_root(d: _Draw) -> None:
    d.state.compute_root(d.compute_stage().name)


def _cache_read(d: _Draw) -> None:
    tensor = d.rng.choice([s.name for s in d.state.stages if d.state.consumers.get(s.name)])
    readers = [r for r in d.state.consumers[tensor] if d.state[r].compute_at != ComputeAtKind.INLINED]
    if readers:
        d.state.cache_read(tensor, d.rng.choice(["shared", "local"]), [d.rng.choice(readers)])


def _cache_write(d: _Draw) -> None:
    d.state.cache_write(d.compute_stage().name, "local")


def _rfactor(d: _Draw) -> None:
    stage = d.compute_stage()
    reduce = [it for it in stage.iters if it.kind == IteratorKind.REDUCE]
    if reduce:
        d.state.rfactor(stage.name, d.rng.choice(reduce), d.rng.randrange(len(stage.shape) + 1))


PRIMITIVES: list[tuple[Callable[[_Draw], None], int]] = [
    (_split, 7),
    (_follow_split, 2),
    (_follow_fused_split, 2),
    (_fuse, 2),
    (_reorder, 3),
    (_annotate, 3),
    (_pragma, 1),
    (_storage_align, 1),
    (_compute_at, 4),
    (_compute_inline, 2),
    (_compute_root, 1),
    (_cache_read, 1),
    (_cache_write, 1),
    (_rfactor, 1),
]


def random_state(dag: ComputeDAG, seed: int, n_steps: int = 10, *, runnable: bool = True) -> State:
    """A random legal state of `dag` reached by up to `n_steps` primitives."""
    draw = _Draw(dag.get_init_state(), random.Random(seed), runnable)
    functions = [f for f, _ in PRIMITIVES]
    weights = [w for _, w in PRIMITIVES]
    for _ in range(n_steps):
        try:
            draw.rng.choices(functions, weights)[0](draw)
        except ScheduleError:
            continue
    return draw.state


REFUSALS = ("compute_at", "fused loop mixes", "storage_align")
"""What the lowering may refuse in a state the primitives accepted step by step (e.g. a stage
computed at one of two readers), by the words of its message."""


def check_against_numpy(name: str, dag: ComputeDAG, state: State, inputs, expected) -> None:
    """Build `state`, run it on `inputs` and compare with `expected`; a refusal must say why, by name."""
    import numpy as np

    from schedopt.build import build

    try:
        kernel = build(dag, state)
    except ScheduleError as error:
        assert any(m in str(error) for m in REFUSALS), str(error)
        return
    outputs = [np.zeros(spec.shape, spec.dtype) for spec in kernel.arg_specs[len(inputs) :]]
    kernel(*inputs, *outputs)
    for got, want in zip(outputs, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=f"{name}:\n{state}")
