"""Host-derived register tiles in the initial population (register_tile.py)."""

import pytest
from programs_vs_numpy import assert_programs_match_numpy

from schedopt.hardware_params import HardwareParams
from schedopt.schedule.transform_steps import SplitStep
from schedopt.search_policy import SketchPolicy
from schedopt.search_policy.register_tile import (
    MIN_ACCUMULATORS,
    RegisterFile,
    accumulators,
    dtype_bytes,
    register_tiles,
)
from schedopt.search_task import SearchTask

AVX512 = RegisterFile(lanes=16, registers=32)
AVX2 = RegisterFile(lanes=8, registers=16)
SMALL = dict(evolutionary_search_population=64, sample_init_min_population=16)


def test_the_register_file_follows_the_vector_unit():
    assert RegisterFile.of(HardwareParams(vector_unit_bytes=64), 4) == AVX512
    assert RegisterFile.of(HardwareParams(vector_unit_bytes=32), 4) == AVX2
    assert RegisterFile.of(HardwareParams(vector_unit_bytes=32), 8) == RegisterFile(4, 16)
    assert dtype_bytes("float32") == 4 and dtype_bytes("float64") == 8 and dtype_bytes("int8") == 1


@pytest.mark.parametrize("registers", [AVX512, AVX2], ids=["avx512", "avx2"])
def test_gemm_tiles_are_whole_vectors_and_fill_but_do_not_overflow_the_registers(registers):
    tiles = register_tiles((512, 512), 64, registers)
    assert tiles
    for tile in tiles:
        assert tile[-1] % registers.lanes == 0
        assert MIN_ACCUMULATORS <= accumulators(tile, registers) <= registers.accumulator_budget
    assert (8, 16) in tiles if registers == AVX512 else (8, 8) in tiles


def test_an_extent_without_whole_vectors_takes_the_widest_part_of_one_and_well_filled_vectors():
    # ResNet's 56-wide rows: no multiple of 16 divides 56; multiples of 8 do, and 14 and 28 fill 7/8
    # of their vectors (14 is the fast one: one masked zmm a row).
    tiles = register_tiles((64, 56), 64, AVX512)
    assert {tile[-1] for tile in tiles} == {8, 14, 28, 56}


def test_a_shape_too_small_for_eight_accumulators_still_gets_the_tiles_that_fit():
    tiles = register_tiles((1, 1000), 64, AVX512)  # a dense layer: one row
    assert tiles == ((1, 8), (1, 25), (1, 40), (1, 50))  # 25, 40 and 50 fill at least 3/4 of their vectors


def policy_for(ratio, name="matmul", args=(128, 128, 128), vector_unit_bytes=64):
    task = SearchTask(
        name, args, hardware_params=HardwareParams(num_cores=2, vector_unit_bytes=vector_unit_bytes)
    )
    params = {**SMALL, "sample_init_register_tile_ratio": ratio}
    return SketchPolicy(task, params=params, seed=0, verbose=0)


def test_at_ratio_one_every_tiled_program_gets_a_register_tile():
    policy = policy_for(1.0)
    fitting = register_tiles((128, 128), 64, RegisterFile.of(policy.hardware_params, 4))
    population = policy.sample_initial_population()
    assert len({len(state.stages) for state in population}) == 2  # with and without a cache-write stage
    for state in population:
        # matmul's i and j are split into four levels (three lengths), k into two.
        tile = tuple(
            s.lengths[-1] for s in state.transform_steps if isinstance(s, SplitStep) and len(s.lengths) == 3
        )
        assert tile in fitting


def test_ansors_defaults_and_gpu_targets_keep_uniform_tile_sizes():
    task = SearchTask("matmul", (64, 64, 64), hardware_params=HardwareParams(vector_unit_bytes=64))
    assert SketchPolicy(task, verbose=0).params["sample_init_register_tile_ratio"] == 0.5
    ansor = SketchPolicy(task, params=SketchPolicy.DEFAULT_PARAMS, verbose=0)
    assert ansor.params["sample_init_register_tile_ratio"] == 0
    assert SketchPolicy.host_params(HardwareParams(target="cuda")) == {}


@pytest.mark.parametrize(
    "name, args",
    [
        ("matmul", (64, 48, 32)),
        ("conv2d_nchw", (1, 8, 14, 14, 16, 3, 3, 1, 1)),
        ("batch_matmul", (2, 32, 32, 16)),
    ],
)
def test_register_tiled_programs_compute_what_numpy_computes(name, args):
    policy = policy_for(1.0, name, args)
    assert_programs_match_numpy(name, args, policy.dag, policy.sample_initial_population()[:4], atol=1e-4)
