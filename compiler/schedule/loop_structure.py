"""The loop structure of a state, cached: its loop relations with the split lengths left open.

Bound inference and the cost model's features need the loop relations of
every state a search meets (`stage_loops`), which takes a replay of the
state's steps. Most states of a search differ from one another only in
their split lengths, so the relations are computed once per structure (the
steps with the lengths left out) and each state fills in its own lengths
(`LoopStructure.loops_of`). A search over one DAG meets a few hundred
structures among tens of thousands of states.
"""

from __future__ import annotations

import weakref
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import schedopt.schedule.transform_steps as steps
from schedopt.dag_view import DAGView
from schedopt.schedule.loop_nest import SplitRelation, StageLoops, stage_loops
from schedopt.schedule.loop_state import State

STRUCTURE_CACHE_SIZE = 4096
"""Loop structures kept per DAG (a search meets a few hundred)."""

_SPLITS = (steps.SplitStep, steps.FollowSplitStep, steps.FollowFusedSplitStep)
_ADDS_STAGE = (steps.CacheReadStep, steps.CacheWriteStep, steps.RfactorStep)


@dataclass(frozen=True)
class LoopStructure:
    """The loop relations of a state, whose split lengths come from each state's own steps."""

    state: State
    """The first state of this structure seen (stages, attach points, annotations)."""
    loops: dict[str, StageLoops]
    split_sources: dict[str, tuple[int, ...]]
    """Per stage, the step that made each of its SplitRelations, in order."""

    def loops_of(self, history: Sequence[steps.Step]) -> dict[str, StageLoops]:
        """The loops of every stage of a state of this structure whose steps are `history`."""
        result: dict[str, StageLoops] = {}
        for name, loops in self.loops.items():
            sources = iter(self.split_sources[name])
            relations = tuple(
                SplitRelation(r.parent, r.children, _split_lengths(history, next(sources)), r.inner_to_outer)
                if isinstance(r, SplitRelation)
                else r
                for r in loops.relations
            )
            result[name] = StageLoops(loops.root_names, relations, loops.leaf_names)
        return result


def loop_structure(dag: DAGView, state: State) -> LoopStructure:
    """The loop structure of `state` (a state of `dag`), from the cache when a state like it was seen."""
    cache = _STRUCTURES.setdefault(dag, {})
    key = _structure_key(state.transform_steps)
    found = cache.get(key)
    if found is None:
        if len(cache) >= STRUCTURE_CACHE_SIZE:
            cache.pop(next(iter(cache)))
        found = cache[key] = _new_structure(dag, state)
    return found


_STRUCTURES: weakref.WeakKeyDictionary[DAGView, dict[tuple[Hashable, ...], LoopStructure]] = (
    weakref.WeakKeyDictionary()
)


def _split_lengths(history: Sequence[steps.Step], index: int) -> tuple[int | None, ...]:
    step = history[index]
    if isinstance(step, steps.SplitStep):
        return step.lengths
    if isinstance(step, steps.FollowSplitStep):
        return tuple(step.lengths(history))
    assert isinstance(step, steps.FollowFusedSplitStep)
    return (step.length(history),)


def _structure_key(history: Sequence[steps.Step]) -> tuple[Hashable, ...]:
    """The steps with split lengths (and the extents they saw) left out."""
    return tuple(
        (s.stage_id, s.iter_id, len(s.lengths), s.inner_to_outer) if type(s) is steps.SplitStep else s
        for s in history
    )


def _new_structure(dag: DAGView, state: State) -> LoopStructure:
    init = dag.get_init_state()
    replay = init.copy()
    sources: dict[str, list[int]] = {s.name: [] for s in replay.stages}
    for index, step in enumerate(state.transform_steps):
        name = replay.stages[step.stage_id].name
        if isinstance(step, _ADDS_STAGE):
            # As in stage_loops: the new stage starts fresh; cache_write and rfactor reset `name` too.
            sources[replay.stages[replay.apply(step)].name] = []
            if not isinstance(step, steps.CacheReadStep):
                sources[name] = []
            continue
        replay.apply(step)
        if isinstance(step, _SPLITS):
            sources[name].append(index)
    return LoopStructure(replay, stage_loops(state, init), {n: tuple(s) for n, s in sources.items()})
