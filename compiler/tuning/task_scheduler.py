"""`TaskScheduler`: tune the tasks of a network together, giving trials to the tasks that cut its latency most.

A network's latency is `objective_func(best costs of its tasks)`, by default
the weighted sum (a task's weight: how often the network runs it). After one
round-robin pass that gives every task a first measured program, each round
goes to one task and measures `num_measures_per_round` of its candidates:
under `strategy="round-robin"` the next live task in turn; under
`"gradient"` (Ansor's, section 6 of the paper) the task whose next round is
expected to lower the objective most. That expectation, per task i with best
cost g_i after t_i rounds, is the chain-rule factor df/dg_i times a blend of

- the backward slope: how much g_i fell over the last `backward_window_size`
  rounds, per round, weighted `alpha`;
- the forward estimate, weighted `1 - alpha`: the smaller of g_i / t_i (as
  much again as the average round so far) and the gap to `beta` times the
  speed of the fastest similar task (same computation, other shapes): a task
  far slower than its kin probably has room to improve.

With probability `eps_greedy` the round goes to a random live task instead,
so no task starves on a bad estimate. A task whose search has nothing new to
propose, or whose best has not moved for `per_task_early_stopping` trials,
is done; the whole run stops at the trial budget, when every task is done, or
when the objective has not improved for `early_stopping` trials.

Every task's policy shares one cost model ("default", "sketch.xgb": one
XGBModel learns from all tasks, as Ansor's does), unless the caller passes
one policy per task. `load_log_file` resumes: its records count towards the
budget, restore each task's best and rounds, are never measured again, and
train the cost model (unless `load_model_file` gives a trained one); a run
killed and restarted on the same log continues where it stopped.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Sequence

from schedopt.cost_model import CostModel, XGBModel
from schedopt.errors import SchedOptError
from schedopt.measurement import MAX_FLOAT, MeasureErrorNo
from schedopt.measurement.program_measurer import measurer_for
from schedopt.progress import report
from schedopt.records import read_records
from schedopt.schedule.stage import IteratorKind, StageKind
from schedopt.search_policy import PreloadMeasuredStates, SearchCallback, SearchPolicy, SketchPolicy
from schedopt.search_policy.sketch_params import SketchParamOverrides
from schedopt.search_task import SearchTask
from schedopt.tuning.auto_schedule import make_cost_model
from schedopt.tuning.scoreboard import Scoreboard
from schedopt.tuning.task_scheduler_callbacks import (
    LogEstimatedLatency,
    PrintTableInfo,
    TaskSchedulerCallback,
)
from schedopt.tuning.tuning_loop import tune_round
from schedopt.tuning_options import TuningOptions

STRATEGIES = ("gradient", "round-robin")
SHARED_MODEL_POLICIES = ("default", "sketch.xgb", "sketch.random")
"""Policy names `tune` accepts: SketchPolicy per task, with one cost model shared by all (xgb or random)."""

EPS_GREEDY = 0.05
"""Share of gradient rounds given to a random live task (Ansor's epsilon)."""

FINITE_GRADIENT_STEP = 1e-4
"""Step of the finite difference that gives df/dg_i for any objective function."""


def similarity_tag(task: SearchTask) -> str:
    """What makes tasks "similar" for the forward estimate: the same stages, whatever the shapes.

    The names and iterator kinds of the compute stages: every conv2d + bias + relu
    of a network shares a tag, a dense layer has another.
    """
    dag = task.compute_dag
    if dag is None:
        return task.workload_key
    stages = [
        f"{stage.name}:{''.join('r' if it.kind == IteratorKind.REDUCE else 's' for it in stage.iters)}"
        for stage in dag.get_init_state().stages
        if stage.kind == StageKind.COMPUTE
    ]
    return ";".join(stages)


class TaskScheduler:
    """Allocates measurement trials among `tasks` to minimise the network's latency (see the module)."""

    def __init__(
        self,
        tasks: Sequence[SearchTask],
        task_weights: Sequence[float] | None = None,
        objective_func: Callable[[Sequence[float]], float] | None = None,
        strategy: str = "gradient",
        load_model_file: str | None = None,
        load_log_file: str | None = None,
        alpha: float = 0.2,
        beta: float = 2,
        gamma: float = 0.5,
        backward_window_size: int = 3,
        callbacks: Sequence[TaskSchedulerCallback] | None = None,
        *,
        seed: int | None = None,
    ):
        if not tasks:
            raise SchedOptError("TaskScheduler needs at least one task")
        if strategy not in STRATEGIES:
            raise SchedOptError(
                f"unknown task scheduler strategy {strategy!r} (known: {', '.join(STRATEGIES)})"
            )
        if task_weights is not None and len(task_weights) != len(tasks):
            raise SchedOptError(f"TaskScheduler: {len(task_weights)} task weights for {len(tasks)} tasks")
        if backward_window_size < 1:
            raise SchedOptError(
                f"TaskScheduler: backward_window_size must be >= 1, got {backward_window_size}"
            )
        self.tasks = list(tasks)
        self.task_weights = (
            [float(w) for w in task_weights] if task_weights is not None else [1.0] * len(tasks)
        )
        self.objective_func = objective_func or self._weighted_latency
        self.strategy = strategy
        self.load_model_file = load_model_file
        self.load_log_file = load_log_file
        self.alpha, self.beta, self.gamma = alpha, beta, gamma
        self.backward_window_size = backward_window_size
        self.callbacks: list[TaskSchedulerCallback] = (
            list(callbacks)
            if callbacks is not None
            else [PrintTableInfo(), LogEstimatedLatency("total_latency.tsv")]
        )
        self.rng = random.Random(seed)
        self.flop_cts = [task.compute_dag.flop_ct if task.compute_dag is not None else 0.0 for task in tasks]
        self.task_tags = [similarity_tag(task) for task in tasks]
        self._reset()

    def _reset(self) -> None:
        """The state of a scheduler that has measured nothing."""
        count = len(self.tasks)
        self.best_costs = [MAX_FLOAT] * count
        self.task_cts = [0] * count
        """Rounds each task has had."""
        self.task_trials = [0] * count
        """Programs measured for each task."""
        self.task_best_trials = [0] * count
        """Each task's trial count when its best was found."""
        self.task_costs_history: list[list[float]] = [[] for _ in range(count)]
        """Each task's best cost after each of its rounds."""
        self.dead_tasks: set[int] = set()
        groups: dict[str, list[int]] = {}
        for index, tag in enumerate(self.task_tags):
            groups.setdefault(tag, []).append(index)
        self.group_of = {index: members for members in groups.values() for index in members}
        self.ct = 0
        self.best_ct = 0
        self.cur_score = self._score(self.best_costs)
        self.best_score = self.cur_score
        self.tic = time.perf_counter()
        self.num_measures_per_round = 0
        self.search_policies: list[SearchPolicy] = []

    # --- the objective -----------------------------------------------------

    def _weighted_latency(self, costs: Sequence[float]) -> float:
        return sum(weight * cost for weight, cost in zip(self.task_weights, costs, strict=True))

    def _score(self, costs: Sequence[float]) -> float:
        return float(self.objective_func(list(costs)))

    def estimated_latency_s(self) -> float | None:
        """The objective under the best costs so far (seconds); None while a task has no valid program."""
        if any(cost >= MAX_FLOAT for cost in self.best_costs):
            return None
        return self.cur_score

    # --- tuning -------------------------------------------------------------

    def tune(
        self,
        tune_option: TuningOptions,
        search_policy: str | Sequence[SearchPolicy] = "default",
        search_policy_params: SketchParamOverrides | None = None,
        adaptive_training: bool = False,
        per_task_early_stopping: int | None = None,
    ) -> None:
        """Tune the tasks together until `tune_option.num_measure_trials` programs are measured (see the module)."""
        self._reset()
        self.tune_option = tune_option
        if tune_option.num_measure_trials <= 0:
            raise SchedOptError("TaskScheduler.tune: num_measure_trials must be positive")
        self.num_measures_per_round = min(
            tune_option.num_measures_per_round, tune_option.num_measure_trials // len(self.tasks)
        )
        if self.num_measures_per_round <= 0:
            raise SchedOptError(
                f"TaskScheduler.tune: num_measure_trials ({tune_option.num_measure_trials}) is below one trial "
                f"per task ({len(self.tasks)} tasks); raise it"
            )
        never = float("inf")
        self.early_stopping_all = (
            tune_option.early_stopping if tune_option.early_stopping is not None else never
        )
        self.early_stopping_task = (
            per_task_early_stopping if per_task_early_stopping is not None else self.early_stopping_all
        )
        self.search_policies = self._make_policies(search_policy, search_policy_params, adaptive_training)
        if self.load_log_file is not None and os.path.exists(self.load_log_file):
            self._restore_status(self.load_log_file)
        self.scoreboard = Scoreboard()
        self.measure_callbacks = list(tune_option.measure_callbacks or ())
        # the table shows progress: the measurer prints per candidate only at verbose 2
        with measurer_for(tune_option, verbose=0 if tune_option.verbose < 2 else 2) as self.measurer:
            self._run()
        for callback in self.callbacks:
            callback.post_tune_all(self)

    def _run(self) -> None:
        for index in range(len(self.tasks)):  # warm-up: every task once, except those the log already tuned
            if self._budget_left() and self.task_cts[index] == 0 and index not in self.dead_tasks:
                self._tune_task(index)
        self.best_ct, self.best_score = self.ct, self.cur_score
        previous = -1
        while self._budget_left() and len(self.dead_tasks) < len(self.tasks):
            index = (
                self._next_round_robin(previous)
                if self.strategy == "round-robin"
                else self._next_by_gradient()
            )
            previous = index
            self._tune_task(index)
            self._adjust_similarity_group(index)
            if self.cur_score < self.best_score:
                self.best_score, self.best_ct = self.cur_score, self.ct
            elif self.ct - self.best_ct >= self.early_stopping_all and self.estimated_latency_s() is not None:
                if self.tune_option.verbose:
                    report(
                        f"no improvement of the estimated latency in the last {self.ct - self.best_ct} trials; stopping"
                    )
                break

    def _budget_left(self) -> bool:
        return self.ct < self.tune_option.num_measure_trials

    def _next_round_robin(self, previous: int) -> int:
        index = (previous + 1) % len(self.tasks)
        while index in self.dead_tasks:
            index = (index + 1) % len(self.tasks)
        return index

    def _next_by_gradient(self) -> int:
        live = [i for i in range(len(self.tasks)) if i not in self.dead_tasks]
        if self.rng.random() < EPS_GREEDY:
            return self.rng.choice(live)
        gradients = {i: self._gradient(i) for i in live}
        lowest = min(gradients.values())
        if lowest == max(gradients.values()):
            return self.rng.choice(live)
        return min(live, key=lambda i: gradients[i])

    def _gradient(self, index: int) -> float:
        """d(objective)/d(round of task `index`), estimated as the module says (<= 0: a round never hurts)."""
        costs = list(self.best_costs)
        costs[index] -= FINITE_GRADIENT_STEP
        chain = (self._score(self.best_costs) - self._score(costs)) / FINITE_GRADIENT_STEP
        best, rounds, history = self.best_costs[index], self.task_cts[index], self.task_costs_history[index]
        window = self.backward_window_size
        backward = (history[-1] - history[-1 - window]) / window if len(history) > window else 0.0
        forward_target = best - best / max(rounds, 1)
        members = self.group_of.get(index, [index])
        if len(members) > 1:
            fastest = max(self.flop_cts[j] / self.best_costs[j] for j in members)
            if fastest > 0:
                forward_target = min(forward_target, self.beta * self.flop_cts[index] / fastest)
        forward = forward_target - best
        return chain * (self.alpha * backward + (1 - self.alpha) * forward)

    def _adjust_similarity_group(self, index: int) -> None:
        """Take a task out of its group when, tuned well beyond its kin, it stays far slower: it is not similar."""
        members = self.group_of.get(index)
        if members is None or len(members) <= 1:
            return
        speed = self.flop_cts[index] / self.best_costs[index]
        fastest = max(self.flop_cts[j] / self.best_costs[j] for j in members)
        most_rounds_of_others = max(self.task_cts[j] for j in members if j != index)
        if speed < fastest / self.beta and self.task_cts[index] > 5 + most_rounds_of_others:
            members.remove(index)
            self.group_of[index] = [index]

    def _tune_task(self, index: int) -> None:
        for callback in self.callbacks:
            callback.pre_tune(self, index)
        task, policy = self.tasks[index], self.search_policies[index]
        inputs, results = tune_round(
            task, policy, self.measurer, self.scoreboard, self.measure_callbacks, self.num_measures_per_round
        )
        self.task_cts[index] += 1
        for result in results:
            self.task_trials[index] += 1
            cost = result.mean_cost()
            if result.error_no == MeasureErrorNo.NO_ERROR and cost < self.best_costs[index]:
                self.best_costs[index] = cost
                self.task_best_trials[index] = self.task_trials[index]
        stalled = self.task_trials[index] - self.task_best_trials[index]
        if not inputs or stalled > self.early_stopping_task:
            self.dead_tasks.add(index)
        self.task_costs_history[index].append(self.best_costs[index])
        self.ct += len(inputs)
        self.cur_score = self._score(self.best_costs)
        for callback in self.callbacks:
            callback.post_tune(self, index)

    # --- policies and resume ----------------------------------------------------

    def _make_policies(
        self,
        search_policy: str | Sequence[SearchPolicy],
        params: SketchParamOverrides | None,
        adaptive_training: bool,
    ) -> list[SearchPolicy]:
        if not isinstance(search_policy, str):
            policies = list(search_policy)
            if len(policies) != len(self.tasks):
                raise SchedOptError(
                    f"TaskScheduler.tune: {len(policies)} search policies for {len(self.tasks)} tasks"
                )
            return policies
        if search_policy not in SHARED_MODEL_POLICIES:
            known = ", ".join(SHARED_MODEL_POLICIES)
            raise SchedOptError(
                f"unknown search policy {search_policy!r} for the task scheduler (known: {known})"
            )
        model = self._shared_cost_model(search_policy, adaptive_training)
        resume: list[SearchCallback] = []
        if self.load_log_file is not None and os.path.exists(self.load_log_file):
            resume.append(PreloadMeasuredStates(self.load_log_file))
        verbose = 0 if self.tune_option.verbose < 2 else self.tune_option.verbose
        return [
            SketchPolicy(
                task,
                model,
                params,
                seed=self.rng.randrange(2**31),
                verbose=verbose,
                init_search_callbacks=resume,
            )
            for task in self.tasks
        ]

    def _shared_cost_model(self, search_policy: str, adaptive_training: bool) -> CostModel:
        kind = "random" if search_policy == "sketch.random" else "xgb"
        model = make_cost_model(
            kind, self.rng.randrange(2**31), self.load_model_file, self.tune_option.verbose
        )
        if isinstance(model, XGBModel):
            # The model guides every round after each task's first (random) one. TVM's
            # warm-up of len(tasks) * num_measures_per_round, with its test `more than`,
            # leaves one more round random.
            model.num_warmup_sample = len(self.tasks) * self.num_measures_per_round - 1
            model.adaptive_training = adaptive_training
            if (
                self.load_model_file is None
                and self.load_log_file is not None
                and os.path.exists(self.load_log_file)
            ):
                model.update_from_file(self.load_log_file)
        return model

    def _restore_status(self, log_file: str) -> None:
        """Count the log's records of these tasks as measured: trials, rounds, best costs (resume)."""
        by_key = {task.workload_key: index for index, task in enumerate(self.tasks)}
        by_hash = {task.workload_hash: index for index, task in enumerate(self.tasks) if task.workload_hash}
        for record in read_records(log_file):
            task = record.input.task
            index = by_key.get(task.workload_key)
            if index is None and task.workload_hash is not None:
                index = by_hash.get(task.workload_hash)
            if index is None:
                continue
            self.task_trials[index] += 1
            self.ct += 1
            cost = record.result.mean_cost()
            if record.result.error_no == MeasureErrorNo.NO_ERROR and cost < self.best_costs[index]:
                self.best_costs[index] = cost
                self.task_best_trials[index] = self.task_trials[index]
        per_round = self.num_measures_per_round
        for index in range(len(self.tasks)):
            if self.task_trials[index] == 0:
                continue
            self.task_cts[index] = -(-self.task_trials[index] // per_round)
            self.task_costs_history[index].append(self.best_costs[index])
            if self.task_trials[index] - self.task_best_trials[index] > self.early_stopping_task:
                self.dead_tasks.add(index)
        self.cur_score = self._score(self.best_costs)
        if self.tune_option.verbose:
            report(f"TaskScheduler: resumed {self.ct} measurements from {log_file}")
