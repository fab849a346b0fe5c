"""`XGBModel`: Ansor's learned cost model, gradient-boosted trees over per-stage features.

A program's score comes from the scores XGBoost gives its stages (one
feature row per stage that stores a buffer, `schedopt.cost_model.features`),
summed over the program's rows (its pack), and is trained on the normalised
throughputs of measured programs (the best cost of their task over their
cost). The objective is `"pairwise-rank"` by default, a loss on the order of
pairs of programs that ranks held-out candidates better than Ansor's, or
Ansor's `"throughput"` (both in `schedopt.cost_model.objectives`).

Training parameters are Ansor's (gamma 0.001, min_child_weight 0, eta 0.2,
seed 43), with the tree shape and rounds of the objective. Until more than
`num_warmup_sample` measurements exist, predictions are random; a state whose
features are all zero (bounds that cannot be inferred) scores -inf.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from schedopt.cost_model.cost_model import CostModel, RandomModel
from schedopt.cost_model.features import (
    get_per_store_features_from_measure_pairs,
    get_per_store_features_from_states,
)
from schedopt.cost_model.objectives import OBJECTIVES
from schedopt.errors import SchedOptError, WorkloadError
from schedopt.measurement import MeasureInput, MeasureResult
from schedopt.records import RecordReader, RecordWarning, recover_measure_input
from schedopt.schedule.loop_state import State

if TYPE_CHECKING:
    import xgboost

    from schedopt.search_task import SearchTask

ADAPTIVE_TRAINING_RATIO = 5
"""With adaptive training, retrain only once the records grew by a fifth since the last training."""

_OBJECTIVE_ATTRIBUTE = "schedopt_objective"
_CALIBRATION_ATTRIBUTE = "schedopt_calibration"


class CostModelError(SchedOptError):
    """A cost model was used in a way it cannot serve (saved before training, missing file)."""


class XGBModel(CostModel):
    """XGBoost on per-stage features, trained with a pack-sum loss (TVM's `auto_scheduler.XGBModel`).

    - `verbose_eval`: print the training loss every this many rounds (0: never).
    - `num_warmup_sample`: predict randomly until more measurements than this exist.
    - `seed`: the seed of training and of the random predictions (None: 43 for training).
    - `model_file`: load the model from this file if it exists, and save it there after each training.
    - `adaptive_training`: retrain only when the measurements grew by a fifth since the last
      training (TVM's spelling, `adapative_training=`, is accepted too).
    - `objective`: `"pairwise-rank"` (default) or Ansor's `"throughput"`
      (`schedopt.cost_model.objectives`). A loaded model keeps the objective it was trained with.
    """

    def __init__(
        self,
        verbose_eval: int = 25,
        num_warmup_sample: int = 100,
        seed: int | None = None,
        model_file: str | os.PathLike[str] | None = None,
        adaptive_training: bool = False,
        *,
        objective: str = "pairwise-rank",
        adapative_training: bool | None = None,
    ):
        if adapative_training is not None:  # TVM's spelling of the keyword
            adaptive_training = adapative_training
        if objective not in OBJECTIVES:
            raise ValueError(
                f"XGBModel: unknown objective {objective!r}; expected one of {', '.join(OBJECTIVES)}"
            )
        self.objective = objective
        self.xgb_params: dict[str, Any] = {
            **OBJECTIVES[objective].tree_params,
            "gamma": 0.001,
            "min_child_weight": 0,
            "eta": 0.2,
            "nthread": max(1, (os.cpu_count() or 2) // 2),
            "verbosity": 0,
            "seed": 43 if seed is None else seed,
            "disable_default_eval_metric": 1,
            "base_score": 0.0,
        }
        self.verbose_eval = verbose_eval
        self.num_warmup_sample = num_warmup_sample
        self.model_file = None if model_file is None else os.fspath(model_file)
        self.adaptive_training = adaptive_training
        self.warm_up_model = RandomModel(seed)
        """The scores while warming up: those `sketch.random` draws from the same seed, so that a
        search guided by this model repeats the random search's first rounds."""
        self.bst: xgboost.Booster | None = None
        self.calibration: tuple[float, ...] = ()
        """What turns pack sums into scores, fitted at each training (`PackObjective.calibration`)."""
        self.inputs: list[MeasureInput] = []
        self.results: list[MeasureResult] = []
        self.features: list[np.ndarray] = []
        self.last_train_length = 0
        if self.model_file is not None and os.path.isfile(self.model_file):
            self.load(self.model_file)

    # --- learning -----------------------------------------------------------------------------

    def update(self, inputs: Sequence[MeasureInput], results: Sequence[MeasureResult]) -> None:
        """Add measurements and retrain on all of them (XGBoost cannot train incrementally)."""
        if not inputs:
            return
        self.inputs += inputs
        self.results += results
        grown = len(self.inputs) - self.last_train_length
        if self.adaptive_training and grown < self.last_train_length / ADAPTIVE_TRAINING_RATIO:
            return
        self.last_train_length = len(self.inputs)
        new_features, throughputs, task_ids = get_per_store_features_from_measure_pairs(
            self.inputs, self.results, skip_first_n_feature_extraction=len(self.features)
        )
        self.features += new_features[len(self.features) :]
        self.bst, self.calibration = self._train(self.features, throughputs, task_ids)
        if self.model_file is not None:
            self.save(self.model_file)

    def update_from_file(self, file_name: str | os.PathLike[str], n_lines: int | None = None) -> None:
        """Learn from the first `n_lines` records of a record file (None: all).

        Records of workloads this process cannot rebuild (another network's
        tasks in a shared log, say) are skipped with a `RecordWarning`.
        """
        inputs, results = RecordReader(file_name).read_lines(n_lines)
        # Each task rebuilt once here, so that feature extraction does not rebuild it again.
        tasks: dict[str, SearchTask | None] = {}
        for measure_input in inputs:
            key = measure_input.task.workload_key
            if key not in tasks:
                tasks[key] = _rebuilt_task(measure_input)
        unknown = [key for key, task in tasks.items() if task is None]
        if unknown:
            skipped = sum(1 for i in inputs if tasks[i.task.workload_key] is None)
            warnings.warn(
                f"{os.fspath(file_name)}: {skipped} records of {len(unknown)} workloads not registered "
                f"in this process left out of training (first: {unknown[0][:120]})",
                RecordWarning,
                stacklevel=2,
            )
        pairs = [
            (MeasureInput(task, i.state), r)
            for i, r in zip(inputs, results, strict=True)
            if (task := tasks[i.task.workload_key]) is not None
        ]
        inputs, results = [i for i, _ in pairs], [r for _, r in pairs]
        self.update(inputs, results)

    def _train(
        self, features: Sequence[np.ndarray], throughputs: np.ndarray, task_ids: np.ndarray
    ) -> tuple[xgboost.Booster, tuple[float, ...]]:
        """The trained booster and its calibration, which the booster also keeps (for `save`)."""
        import xgboost as xgb  # on first use: `import schedopt` stays fast

        rows, pack_ids = _pack(features)
        objective = OBJECTIVES[self.objective](pack_ids, throughputs, task_ids, self.xgb_params["seed"])
        dtrain = xgb.DMatrix(rows)
        # The metric costs as much as the gradient; it is computed only where it is printed or stopped on.
        watched = self.verbose_eval > 0 or objective.early_stopping_rounds is not None
        booster = xgb.train(
            self.xgb_params,
            dtrain,
            num_boost_round=objective.boost_rounds,
            obj=objective.gradient,
            custom_metric=objective.metric if watched else None,
            evals=[(dtrain, "tr")] if watched else (),
            early_stopping_rounds=objective.early_stopping_rounds,
            verbose_eval=self.verbose_eval if self.verbose_eval > 0 else False,
        )
        calibration = objective.calibration(objective.sums(booster.predict(dtrain)))
        booster.set_attr(
            **{_OBJECTIVE_ATTRIBUTE: self.objective, _CALIBRATION_ATTRIBUTE: json.dumps(calibration)}
        )
        return booster, calibration

    # --- predicting ---------------------------------------------------------------------------

    def predict(self, task: SearchTask, states: Sequence[State]) -> list[float]:
        """A score per state, higher for faster programs (random while warming up)."""
        features = get_per_store_features_from_states(states, task)
        return self._scores(task, states, features, self._stage_scores(features)).tolist()

    def predict_stages(self, task: SearchTask, states: Sequence[State]) -> np.ndarray:
        """Scores of the states and of their stages, in TVM's packed format (see `CostModel`).

        The stages of a state are those that store a buffer (compute stages
        not inlined), in the state's order; a state's score is the sum of its
        stage scores under `"throughput"`, and under `"pairwise-rank"` the
        exp of a line fitted to that sum (`PairwiseRank.calibration`). While
        the model warms up every `n_i` is 0.
        """
        features = get_per_store_features_from_states(states, task)
        stage_scores = self._stage_scores(features)
        packed: list[float] = self._scores(task, states, features, stage_scores).tolist()
        for scores in stage_scores if stage_scores is not None else [np.zeros(0)] * len(states):
            packed.append(float(len(scores)))
            packed += scores.tolist()
        return np.asarray(packed, dtype=np.float32)

    @property
    def scores_at_random(self) -> bool:
        """True while the model warms up (untrained, or `num_warmup_sample` measurements or fewer)."""
        return self.bst is None or len(self.inputs) <= self.num_warmup_sample

    def _stage_scores(self, features: Sequence[np.ndarray]) -> list[np.ndarray] | None:
        """The model's score of every row of every state, None while the model warms up."""
        bst = self.bst
        if bst is None or self.scores_at_random or not features:
            return None
        import xgboost as xgb  # on first use: `import schedopt` stays fast

        rows, pack_ids = _pack(features)
        preds = bst.predict(xgb.DMatrix(rows))
        return np.split(preds, np.cumsum(np.bincount(pack_ids, minlength=len(features)))[:-1])

    def _scores(
        self,
        task: SearchTask,
        states: Sequence[State],
        features: Sequence[np.ndarray],
        stage_scores: list[np.ndarray] | None,
    ) -> np.ndarray:
        if stage_scores is None:
            scores = np.array(self.warm_up_model.predict(task, states), dtype=np.float64)
        else:
            sums = np.array([float(s.sum()) for s in stage_scores])
            scores = OBJECTIVES[self.objective].scores(sums, self.calibration)
        invalid = np.array([not f.any() for f in features], dtype=bool)
        scores[invalid] = -np.inf
        return scores

    # --- files --------------------------------------------------------------------------------

    def save(self, file_name: str | os.PathLike[str]) -> None:
        """Write the trained model (XGBoost's format; `.json` or `.ubj` by the suffix)."""
        if self.bst is None:
            raise CostModelError(
                f"XGBModel.save({os.fspath(file_name)!r}): the model has not been trained yet"
            )
        self.bst.save_model(os.fspath(file_name))

    def load(self, file_name: str | os.PathLike[str]) -> None:
        """Read a model `save` wrote; it predicts at once (no warm-up)."""
        name = os.fspath(file_name)
        if not os.path.isfile(name):
            raise CostModelError(f"XGBModel.load: no model file {name!r}")
        import xgboost as xgb  # on first use: `import schedopt` stays fast

        booster = xgb.Booster(self.xgb_params)
        try:
            booster.load_model(name)
        except xgb.core.XGBoostError as error:
            raise CostModelError(f"XGBModel.load: {name!r} is not an XGBoost model: {error}") from None
        objective = booster.attr(_OBJECTIVE_ATTRIBUTE)
        if objective not in OBJECTIVES:
            raise CostModelError(
                f"XGBModel.load: {name!r} was not saved by XGBModel of this sched-opt (it names no "
                f"objective of {', '.join(OBJECTIVES)}); train the model again"
            )
        self.bst, self.objective = booster, objective
        self.calibration = _read_calibration(booster, name, OBJECTIVES[objective].uncalibrated)
        self.xgb_params.update(OBJECTIVES[objective].tree_params)
        self.num_warmup_sample = -1


def _read_calibration(
    booster: xgboost.Booster, name: str, uncalibrated: tuple[float, ...]
) -> tuple[float, ...]:
    """The calibration a saved booster keeps; `uncalibrated` for one saved before calibrations."""
    text = booster.attr(_CALIBRATION_ATTRIBUTE)
    if text is None:
        return uncalibrated
    try:
        values = tuple(float(v) for v in json.loads(text))
    except (ValueError, TypeError):
        values = None
    if values is None or len(values) != len(uncalibrated):
        raise CostModelError(
            f"XGBModel.load: {name!r} has a malformed {_CALIBRATION_ATTRIBUTE} attribute {text!r}; "
            "train the model again"
        )
    return values


def _pack(features: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """All rows of all programs, and the index of the program (pack) of each row."""
    rows = np.concatenate(features) if features else np.zeros((0, 0), dtype=np.float32)
    pack_ids = np.repeat(np.arange(len(features)), [len(f) for f in features])
    return rows, pack_ids


def _rebuilt_task(measure_input: MeasureInput) -> SearchTask | None:
    """The input's task with its DAG, rebuilt from the workload key if need be; None if this process cannot."""
    if measure_input.task.compute_dag is not None:
        return measure_input.task
    try:
        return recover_measure_input(measure_input).task
    except WorkloadError:
        return None
