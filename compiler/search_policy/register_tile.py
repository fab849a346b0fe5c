"""Host-derived register tiles: innermost tile sizes whose accumulators fit the vector registers.

Ansor fills every open split with a factorisation drawn uniformly from all
of them. For a stage tiled at several levels (matmul, conv2d) the innermost
spatial level is the register tile: the vectorised axis (the stage's last
spatial loop) times the other axes' innermost lengths is the number of
accumulators the kernel keeps live across the reduction. Most uniform draws
make that tile either one vector wide (too few independent FMAs to hide
their latency) or larger than the register file (spills), so on a 200-trial
budget the fast programs are sampled rarely and, worse, the cost model
trained on the slow ones learns that the structures they share (many
parallel tasks, deep tiles) are slow.

`sample_register_tile` draws a tile that fits instead: the vectorised
length a multiple of the vector lanes, at least `MIN_ACCUMULATORS` vector
accumulators when the shape allows (two FMA units of four-cycle latency
need eight in flight), at most the register file less the registers the
operand loads need. The outer levels stay uniform. SketchPolicy samples
this way for a share of its initial population
(`sample_init_register_tile_ratio`), so the rest of the search stays
Ansor's.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import product
from math import prod

from schedopt.hardware_params import HardwareParams
from schedopt.schedule.loop_state import State
from schedopt.schedule.stage import IteratorKind
from schedopt.schedule.transform_steps import SplitStep, Step
from schedopt.search_policy.split_factors import divisors, factorizations

MIN_ACCUMULATORS = 8
"""Vector accumulators that keep two FMA pipes of latency 4 busy."""

MIN_LANE_USE = 0.75
"""A vectorised length that is no multiple of the lanes is drawn if it fills this share of its vectors:
on the ResNet-18 3x3 conv2d (x extent 56, AVX-512) the 14-wide tile runs 1.4x the 8-wide one."""

OPERAND_REGISTERS = 4
"""Vector registers left for operands (the loaded row of B, broadcasts of A)."""

StepReplay = Callable[[Sequence[Step]], State | None]
"""The state some steps produce from a DAG's initial state, None if one does not apply."""


@dataclass(frozen=True)
class RegisterFile:
    """What a register tile must fit: lanes of one vector and the number of vector registers."""

    lanes: int
    registers: int

    @staticmethod
    def of(hardware_params: HardwareParams, dtype_bytes: int) -> RegisterFile:
        """The host's: x86-64 has 32 vector registers with AVX-512 (64-byte vectors), else 16."""
        vector_bytes = hardware_params.vector_unit_bytes or 16
        return RegisterFile(max(1, vector_bytes // dtype_bytes), 32 if vector_bytes >= 64 else 16)

    @property
    def accumulator_budget(self) -> int:
        return self.registers - OPERAND_REGISTERS


@dataclass(frozen=True)
class TiledStage:
    """The open spatial splits of one multi-level-tiled stage, outer axis first; the last one is vectorised."""

    stage_name: str
    split_indices: tuple[int, ...]


def dtype_bytes(dtype: str) -> int:
    """Bytes of one element of a te dtype ("float32" -> 4); 4 when the name carries no width."""
    bits = re.search(r"(\d+)$", dtype)
    return max(1, int(bits.group(1)) // 8) if bits else 4


def tiled_stages(steps: Sequence[Step], replay: StepReplay) -> list[TiledStage]:
    """The stages whose spatial loops `steps` split into two or more open lengths (multi-level tiling).

    A split's loop is named by the state just before it, so the steps are
    replayed up to each open split (once per sketch: callers memoise).
    """
    by_stage: dict[str, list[int]] = {}
    for index, step in enumerate(steps):
        if (
            not isinstance(step, SplitStep)
            or len(step.lengths) < 2
            or any(n is not None for n in step.lengths)
        ):
            continue
        before = replay(steps[:index])
        if before is None:
            return []
        stage = before.stages[step.stage_id]
        if stage.iters[step.iter_id].kind != IteratorKind.SPATIAL:
            continue
        by_stage.setdefault(stage.name, []).append(index)
    return [TiledStage(name, tuple(indices)) for name, indices in by_stage.items()]


def lane_use(length: int, registers: RegisterFile) -> float:
    """The share of the lanes of its vectors that a vectorised loop of `length` fills (14 on 16 lanes: 7/8)."""
    return length / (-(-length // registers.lanes) * registers.lanes)


def accumulators(tile: tuple[int, ...], registers: RegisterFile) -> int:
    """Vector registers a tile's accumulators take: its rows times the vectors of its last length."""
    return prod(tile[:-1]) * -(-tile[-1] // registers.lanes)


@functools.cache
def register_tiles(
    extents: tuple[int, ...], max_innermost: int, registers: RegisterFile
) -> tuple[tuple[int, ...], ...]:
    """Innermost lengths of the spatial axes (the last vectorised) whose accumulators fit the registers.

    The vectorised length is a multiple of the lanes, or of the widest
    power-of-two part of them its extent allows (56 on AVX-512: multiples
    of 8), or fills its vectors to at least `MIN_LANE_USE` (56 on AVX-512:
    14, 28 and 56, whose last vector is partly filled). Tiles with at least
    `MIN_ACCUMULATORS` accumulators are preferred when any exist. Memoised:
    the sampler asks for the same shapes thousands of times a round.
    """
    *rows, vector = extents
    step = registers.lanes
    while step > 1 and not any(d % step == 0 for d in divisors(vector) if d <= max_innermost):
        step //= 2
    vector_choices = [
        d
        for d in divisors(vector)
        if d <= max_innermost and (d % step == 0 or lane_use(d, registers) >= MIN_LANE_USE)
    ]
    row_choices = [[d for d in divisors(extent) if d <= max_innermost] for extent in rows]
    fitting = [
        tile
        for tile in (
            (*row_lengths, length) for row_lengths in product(*row_choices) for length in vector_choices
        )
        if accumulators(tile, registers) <= registers.accumulator_budget
    ]
    full = [tile for tile in fitting if accumulators(tile, registers) >= MIN_ACCUMULATORS]
    return tuple(full or fitting)


def sample_register_tile(
    steps: list[Step], stage: TiledStage, registers: RegisterFile, max_innermost: int, rng: random.Random
) -> bool:
    """Fill `stage`'s open spatial splits in `steps` with a register tile and uniform outer levels.

    Returns False (leaving `steps` as they were) when an extent is unknown or no tile fits.
    """
    splits = [step for index in stage.split_indices if isinstance(step := steps[index], SplitStep)]
    extents = tuple(split.extent for split in splits if split.extent is not None)
    if len(extents) != len(stage.split_indices):
        return False
    tiles = register_tiles(extents, max_innermost, registers)
    if not tiles:
        return False
    tile = rng.choice(tiles)
    for index, split, extent, inner in zip(stage.split_indices, splits, extents, tile, strict=True):
        outer = rng.choice(factorizations(extent // inner, len(split.lengths) - 1, extent))
        steps[index] = replace(split, lengths=(*outer, inner))
    return True
