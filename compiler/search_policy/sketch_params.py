"""The parameters of a SketchPolicy, by name, as TVM's `params` dict spells them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeAlias, TypedDict

TilingStructure: TypeAlias = Literal["cpu_multi_level_tiling_structure", "gpu_multi_level_tiling_structure"]
"""The parameter that names a multi-level tiling structure ("SSRSRS" on a CPU, "SSSRRSRS" on a GPU)."""

SketchParamOverrides: TypeAlias = Mapping[str, float | int | str]
"""Some of the parameters, by name; SketchPolicy rejects a name that is not one of `SketchParams`."""


class SketchParams(TypedDict):
    """All of Ansor's search parameters, as a policy uses them (defaults: `SketchPolicy.DEFAULT_PARAMS`)."""

    eps_greedy: float
    retry_search_one_round_on_empty: int
    sample_init_min_population: int
    sample_init_use_measured_ratio: float
    evolutionary_search_population: int
    evolutionary_search_num_iters: int
    evolutionary_search_mutation_prob: float
    cpu_multi_level_tiling_structure: str
    gpu_multi_level_tiling_structure: str
    max_innermost_split_factor: int
    max_vectorize_size: int
    disable_change_compute_location: int
    sample_init_register_tile_ratio: float
