"""`SketchPolicy`: Ansor's search, from sketches through random sampling to evolution.

One round of the search (`pick_candidates`, then `update` with the results):

1. generate the sketches of the task once (sketch_rules.py);
2. sample an initial population: a population's worth of random sketches
   completed by the initial-population rules (init_population.py);
3. add the best programs measured so far, and evolve the population for a
   few generations under the cost model's scores (mutation.py);
4. take the best-scored programs not measured yet, mixed with a few random
   ones (eps-greedy); the tuning loop measures them and hands the results
   back, which teach the cost model.

Everything random draws from one `random.Random(seed)`: the same seed gives
the same candidates.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, cast

from schedopt.compute_dag import ComputeDAG
from schedopt.cost_model import CostModel, RandomModel
from schedopt.errors import ScheduleError, TargetError
from schedopt.hardware_params import HardwareParams, is_cuda_target
from schedopt.measurement import MeasureInput, MeasureResult
from schedopt.schedule.bound_inference import bound_inference
from schedopt.schedule.loop_state import State
from schedopt.schedule.transform_steps import CacheReadStep, CacheWriteStep, RfactorStep, SplitStep, Step
from schedopt.search_policy.gpu_init_rules import GPU_INIT_RULES
from schedopt.search_policy.gpu_limits import gpu_limit_violation
from schedopt.search_policy.gpu_sketch_rules import GPU_RULES
from schedopt.search_policy.init_population import CPU_INIT_RULES
from schedopt.search_policy.mutation import CPU_MUTATION_RULES, GPU_MUTATION_RULES
from schedopt.search_policy.register_tile import TiledStage, tiled_stages
from schedopt.search_policy.search_policy import SearchCallback, SearchPolicy
from schedopt.search_policy.sketch_params import SketchParamOverrides, SketchParams
from schedopt.search_policy.sketch_rules import CPU_RULES, CustomSketchRule, SketchRule, generate_sketches

if TYPE_CHECKING:
    from schedopt.search_task import SearchTask


@dataclass(frozen=True)
class _Scored:
    """A candidate in the evolution's heap of the best (ordered by score)."""

    score: float
    key: str
    state: State

    def __lt__(self, other: _Scored) -> bool:
        return self.score < other.score


SEARCHABLE_TARGETS = ("llvm", "cuda", "nvptx")
"""The target kinds with sketch and init-population rules: the CPU's, and the GPU's for CUDA."""

GPU_LIMIT_FIELDS = ("max_threads_per_block", "max_vthread_extent", "warp_size")
"""The hardware parameters the GPU search cannot do without."""


class SketchPolicy(SearchPolicy):
    """The search over sketches (TVM's `auto_scheduler.SketchPolicy`).

    `params` overrides entries of the defaults; `init_search_callbacks`
    run once before the search (`PreloadMeasuredStates`,
    `PreloadCustomSketchRule`).

    On a CUDA target (`cuda`, `nvptx`) the rules are Ansor's GPU rules
    (gpu_sketch_rules.py, gpu_init_rules.py, `GPU_MUTATION_RULES`), and a
    program that breaks a limit of a block (gpu_limits.py) is rejected.

    The defaults are Ansor's (`DEFAULT_PARAMS`, TVM's documented values)
    except where `host_params` derives a limit from the task's hardware:
    Ansor's constants were chosen for AVX2, and on a wider vector unit they
    keep the fastest programs out of the search space. Pass
    `params=SketchPolicy.DEFAULT_PARAMS` for Ansor's search exactly.
    """

    DEFAULT_PARAMS: SketchParams = {
        "eps_greedy": 0.05,
        "retry_search_one_round_on_empty": 1,
        "sample_init_min_population": 50,
        "sample_init_use_measured_ratio": 0.2,
        "evolutionary_search_population": 2048,
        "evolutionary_search_num_iters": 4,
        "evolutionary_search_mutation_prob": 0.85,
        "cpu_multi_level_tiling_structure": "SSRSRS",
        "gpu_multi_level_tiling_structure": "SSSRRSRS",
        "max_innermost_split_factor": 64,
        "max_vectorize_size": 16,
        "disable_change_compute_location": 0,
        "sample_init_register_tile_ratio": 0.0,
    }
    """Ansor's parameters with TVM's default values, and ours switched off (ratio 0)."""

    @staticmethod
    def host_params(hardware_params: HardwareParams) -> SketchParamOverrides:
        """The parameters derived from the hardware, in place of Ansor's constants.

        `max_vectorize_size`: as many elements as four vector registers hold
        (of 4-byte elements): 64 on AVX-512, 32 on AVX2, 16 on SSE. Ansor's 16
        is two AVX2 registers; on AVX-512 it is one register, so a register
        tile of the innermost vectorised loop can never span two, and the
        tiles that run GEMM fastest there (8 rows x 32 columns, 16
        accumulators) were outside the space. MetaSchedule allows 64.

        `sample_init_register_tile_ratio`: on a CPU, half of the initial
        population gets register tiles that fit the host's vector registers
        (register_tile.py); Ansor's uniform tile sizes rarely do, and a cost
        model trained on the programs that do not learns the wrong lessons.
        """
        if is_cuda_target(hardware_params.target):
            return {}
        vector_bytes = hardware_params.vector_unit_bytes or 16
        return {"max_vectorize_size": max(16, vector_bytes), "sample_init_register_tile_ratio": 0.5}

    def __init__(
        self,
        task: SearchTask,
        program_cost_model: CostModel | None = None,
        params: SketchParamOverrides | None = None,
        seed: int | None = None,
        verbose: int = 1,
        init_search_callbacks: Sequence[SearchCallback] | None = None,
    ):
        unknown = set(params or {}) - set(self.DEFAULT_PARAMS)
        if unknown:
            raise ValueError(f"unknown SketchPolicy params: {', '.join(sorted(unknown))}")
        target_kind = task.target.split()[0]
        if target_kind not in SEARCHABLE_TARGETS:
            raise TargetError(
                f"SketchPolicy: no search space for target {task.target!r} yet "
                f"(searchable: {', '.join(SEARCHABLE_TARGETS)})"
            )
        super().__init__(task, verbose)
        self.is_gpu = is_cuda_target(task.target)
        """Whether the search uses Ansor's GPU rules (a CUDA target)."""
        if self.is_gpu:
            self._check_gpu_hardware_params()
        self.program_cost_model = program_cost_model if program_cost_model is not None else RandomModel(seed)
        # Every name is one of SketchParams (checked above), so the merge is one.
        self.params = cast(
            SketchParams, {**self.DEFAULT_PARAMS, **self.host_params(self.hardware_params), **(params or {})}
        )
        self.rng = random.Random(seed)
        self.sketch_rules: list[SketchRule] = list(GPU_RULES if self.is_gpu else CPU_RULES)
        self.init_rules = GPU_INIT_RULES if self.is_gpu else CPU_INIT_RULES
        self.mutation_rules = GPU_MUTATION_RULES if self.is_gpu else CPU_MUTATION_RULES
        self._sketches: list[State] | None = None
        self._dags: dict[tuple[Step, ...], ComputeDAG] = {}
        self._tiled_stages: dict[tuple[Step, ...], list[TiledStage]] = {}
        for callback in init_search_callbacks or ():
            callback.callback(self)

    # --- services for the rules -----------------------------------------------------------

    @property
    def dag(self) -> ComputeDAG:
        return self.search_task.dag_or_error()

    @cached_property
    def hardware_params(self) -> HardwareParams:
        """The task's hardware parameters, or the host's when the task leaves them open."""
        given = self.search_task.hardware_params
        return given if given is not None else HardwareParams(target=self.search_task.target)

    def _check_gpu_hardware_params(self) -> None:
        missing = [name for name in GPU_LIMIT_FIELDS if not getattr(self.hardware_params, name, None)]
        if missing:
            raise TargetError(
                f"SketchPolicy: the hardware params of the {self.search_task.target!r} task have no "
                f"{', '.join(missing)} (give HardwareParams(..., target={self.search_task.target!r}), "
                "whose unset fields take the GPU's defaults)"
            )

    def current_dag(self, state: State) -> ComputeDAG:
        """The DAG with the stages `state`'s cache and rfactor steps add (memoised by those steps)."""
        adding = tuple(
            s for s in state.transform_steps if isinstance(s, CacheReadStep | CacheWriteStep | RfactorStep)
        )
        if not adding:
            return self.dag
        if adding not in self._dags:
            # A sketch's open split lengths do not change the structure of the
            # stages; any length serves to build them.
            closed = [
                replace(s, lengths=tuple(1 if n is None else n for n in s.lengths))
                if isinstance(s, SplitStep)
                else s
                for s in state.transform_steps
            ]
            self._dags[adding] = self.dag.apply_steps_from_state(self.dag.replay_steps(closed))
        return self._dags[adding]

    def replay(self, steps: Sequence[Step]) -> State | None:
        """The state `steps` produce from the initial state, None if one of them does not apply."""
        try:
            return self.dag.replay_steps(steps)
        except ScheduleError:
            return None

    def infer_bound(self, state: State) -> State | None:
        """`state` with every extent known; None if its bounds cannot be inferred or, on a GPU, it breaks
        a limit of a block (threads, vthreads, shared or local memory: gpu_limits.py)."""
        try:
            inference = bound_inference(self.dag, state)
            bounded = inference.bounded_state()
        except ScheduleError:
            return None
        if self.is_gpu and gpu_limit_violation(self.dag, bounded, self.hardware_params, inference):
            return None
        return bounded

    def tiled_stages(self, state: State) -> list[TiledStage]:
        """The multi-level-tiled stages of a sketch and their open spatial splits (memoised by its steps)."""
        steps = tuple(state.transform_steps)
        if steps not in self._tiled_stages:
            self._tiled_stages[steps] = tiled_stages(steps, self.replay)
        return self._tiled_stages[steps]

    def add_custom_sketch_rule(self, rule: CustomSketchRule) -> None:
        """Run `rule` before the built-in rules (`PreloadCustomSketchRule`)."""
        self.sketch_rules.insert(0, rule)
        self._sketches = None

    # --- the three phases -----------------------------------------------------------------

    def generate_sketches(self, print_for_debug: bool = False) -> list[State]:
        """The task's sketches (memoised); with `print_for_debug`, print each."""
        if self._sketches is None:
            self._sketches = generate_sketches(
                self, self.dag.get_init_state(), self.sketch_rules, visit_placeholders=self.is_gpu
            )
        if print_for_debug:
            for index, sketch in enumerate(self._sketches):
                print(f"=== sketch {index} ===\n{sketch}")
        return list(self._sketches)

    def sample_initial_population(self) -> list[State]:
        """Distinct valid programs completed from random sketches, as Ansor samples them.

        Programs are drawn in batches of `evolutionary_search_population`
        until at least `sample_init_min_population` distinct valid ones
        exist, so a round starts from a whole population of random programs
        (the minimum only matters when most draws fail); five batches in a
        row without a new program end the sampling.
        """
        sketches = self.generate_sketches()
        if not sketches:
            raise ScheduleError(f"no sketch for workload @{self.dag.func_name}")
        batch_size = self.params["evolutionary_search_population"]
        wanted = self.params["sample_init_min_population"]
        population: dict[str, State] = {}
        fruitless_batches = 0
        while len(population) < wanted and fruitless_batches < 5:
            size_before = len(population)
            for _ in range(batch_size):
                state = self._sample_program(sketches)
                if state is not None:
                    population.setdefault(str(state), state)
            fruitless_batches = fruitless_batches + 1 if len(population) == size_before else 0
        return list(population.values())

    def _sample_program(self, sketches: Sequence[State]) -> State | None:
        """A random sketch completed by the initial-population rules, bounds inferred; None if invalid."""
        state: State | None = self.rng.choice(sketches)
        for rule in self.init_rules:
            state = rule(self, state, self.rng)
            if state is None:
                return None
        return self.infer_bound(state)

    def evolutionary_search(self, init_populations: Sequence[State], out_size: int) -> list[State]:
        """The `out_size` best-scored programs found by evolving `init_populations`, best first.

        Each generation is scored by the cost model; parents are drawn in
        proportion to their scores and mutated with probability
        `evolutionary_search_mutation_prob`. Measured programs are never returned.
        """
        population_size = self.params["evolutionary_search_population"]
        mutation_prob = self.params["evolutionary_search_mutation_prob"]
        num_iters = self.params["evolutionary_search_num_iters"]
        if self.program_cost_model.scores_at_random:
            num_iters = min(num_iters, 2)  # random scores cannot guide many generations
        weights = [rule.weight for rule in self.mutation_rules]
        best: list[_Scored] = []
        in_best: set[str] = set(self.measured_keys)
        population = list(init_populations)
        known: dict[str, float] = {}
        """Scores of the programs seen in this search: parents kept unmutated and repeated children
        are not scored again."""
        for generation in range(num_iters + 1):
            keys = [str(state) for state in population]
            scores = self._scores(population, keys, known)
            for state, key, score in zip(population, keys, scores, strict=True):
                if key in in_best:
                    continue
                if len(best) < out_size:
                    heapq.heappush(best, _Scored(score, key, state))
                    in_best.add(key)
                elif score > best[0].score:
                    in_best.discard(heapq.heapreplace(best, _Scored(score, key, state)).key)
                    in_best.add(key)
            if generation == num_iters or not population:
                break
            selection = [max(score, 0.0) + 1e-9 for score in scores]
            offspring: list[State] = []
            failures = 0
            while len(offspring) < population_size and failures < population_size * 4:
                parent = self.rng.choices(population, selection)[0]
                if self.rng.random() >= mutation_prob:
                    offspring.append(parent)
                    continue
                rule = self.rng.choices(self.mutation_rules, weights)[0]
                child = rule(self, parent, self.rng)
                child = self.infer_bound(child) if child is not None else None
                if child is None:
                    failures += 1
                else:
                    offspring.append(child)
            population = offspring
        return [item.state for item in sorted(best, reverse=True)]

    def _scores(
        self, population: Sequence[State], keys: Sequence[str], known: dict[str, float]
    ) -> list[float]:
        """The cost model's scores of `population`, asking it only for programs not in `known` (updated).

        A model that scores at random draws afresh for every program, repeats included, as it always has.
        """
        if self.program_cost_model.scores_at_random:
            return self.program_cost_model.predict(self.search_task, population)
        new = {key: state for key, state in zip(keys, population, strict=True) if key not in known}
        if new:
            scores = self.program_cost_model.predict(self.search_task, list(new.values()))
            known.update(zip(new, scores, strict=True))
        return [known[key] for key in keys]

    # --- rounds ---------------------------------------------------------------------------

    def search_one_round(self, num_random_states: int, out_size: int) -> tuple[list[State], list[State]]:
        """The best-predicted unmeasured programs and `num_random_states` random ones."""
        population = self.sample_initial_population()
        measured_share = int(self.params["sample_init_use_measured_ratio"] * len(population))
        seeds = population + self.best_measured_states(measured_share)
        best = self.evolutionary_search(seeds, out_size)
        random_states = [s for s in population if str(s) not in self.measured_keys]
        self.rng.shuffle(random_states)
        return best, random_states[:num_random_states]

    def pick_candidates(self, num_measure: int) -> list[State]:
        """The next batch to measure: (1 - eps) best-predicted, eps random, none measured before."""
        n_random = int(self.params["eps_greedy"] * num_measure)
        for _ in range(1 + self.params["retry_search_one_round_on_empty"]):
            best, random_states = self.search_one_round(n_random * 3, num_measure * 2)
            batch: list[State] = []
            seen: set[str] = set()
            for state in best[: num_measure - n_random] + random_states + best[num_measure - n_random :]:
                key = str(state)
                if key in seen or key in self.measured_keys:
                    continue
                seen.add(key)
                batch.append(state)
                if len(batch) == num_measure:
                    break
            if batch:
                return batch
        return []

    def update(self, inputs: Sequence[MeasureInput], results: Sequence[MeasureResult]) -> None:
        """Take in a measured batch and train the cost model on it."""
        super().update(inputs, results)
        self.program_cost_model.update(inputs, results)
