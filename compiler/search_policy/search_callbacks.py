"""The `SearchCallback`s sched-opt offers: resume a search from records, add custom sketch rules.

They sit above the policies they configure, so the policy interface knows none of them.
"""

from __future__ import annotations

from collections.abc import Callable

from schedopt.records import read_records
from schedopt.schedule.loop_state import State
from schedopt.search_policy.rule_context import RuleContext
from schedopt.search_policy.search_policy import SearchCallback, SearchPolicy
from schedopt.search_policy.sketch_policy import SketchPolicy
from schedopt.search_policy.sketch_rules import Condition, CustomSketchRule


class PreloadMeasuredStates(SearchCallback):
    """Resume a search: the programs measured in a record file count as measured, the best seed evolution."""

    def __init__(self, filename: str):
        self.filename = filename

    def callback(self, policy: SearchPolicy) -> None:
        task = policy.search_task
        # by key or structural hash: records the IR-side passes wrote for the same computation count too
        for record in read_records(self.filename, task.workload_key, workload_hash=task.workload_hash):
            inp, res = record.input, record.result
            dag = task.dag_or_error()
            state = dag.infer_bound_from_state(dag.replay_steps(inp.state.transform_steps))
            costs = [c for c in res.costs if c > 0] if res.error_no == 0 else []
            policy.record_measured(state, sum(costs) / len(costs) if costs else None)


class PreloadCustomSketchRule(SearchCallback):
    """Add a sketch rule of the user's, tried before the built-in ones.

    `meet_condition_func(policy, state, stage_id)` answers a `Condition` (or
    TVM's 0 pass, 1 apply, 2 apply and skip the rest); `apply_func(policy,
    state, stage_id)` returns a list of (state, next stage id).
    """

    def __init__(
        self,
        meet_condition_func: Callable[[RuleContext, State, int], Condition | int],
        apply_func: Callable[[RuleContext, State, int], list[tuple[State, int]]],
        rule_name: str = "CustomSketchRule",
    ):
        self.meet_condition_func = meet_condition_func
        self.apply_func = apply_func
        self.rule_name = rule_name

    def callback(self, policy: SearchPolicy) -> None:
        if not isinstance(policy, SketchPolicy):
            raise TypeError(f"PreloadCustomSketchRule needs a SketchPolicy, not {type(policy).__name__}")
        policy.add_custom_sketch_rule(
            CustomSketchRule(self.meet_condition_func, self.apply_func, self.rule_name)
        )
