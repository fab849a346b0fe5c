"""`XGBModel`: Ansor's learned cost model, gradient-boosted trees over per-stage features.

A program's score is the sum of the scores XGBoost gives its stages (one
feature row per stage that stores a buffer, `schedopt.cost_model.features`).
The model learns the normalised throughput of measured programs (the best
cost of their task over their cost, in [0, 1]) with the "pack-sum" squared
loss: for the rows of a program, `loss = y * (sum(pred) - y)^2 / 2`, whose
gradient for each row is `y * (sum(pred) - y)` and hessian `y`. XGBoost
cannot express a loss over sums of rows, so the objective is a custom one
that knows which rows form a program (its pack).

Training parameters are Ansor's: max_depth 10, gamma 0.001,
min_child_weight 0, eta 0.2, seed 43, up to 10,000 rounds with early
stopping after 50 rounds without improvement of the training pack-sum RMSE.
Until more than `num_warmup_sample` measurements exist, predictions are
random; a state whose features are all zero (bounds that cannot be inferred)
scores -inf.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from schedopt.cost_model.cost_model import CostModel
from schedopt.cost_model.features import (
    get_per_store_features_from_measure_pairs,
    get_per_store_features_from_states,
)
from schedopt.errors import SchedOptError
from schedopt.loop_state import State
from schedopt.measure import MeasureInput, MeasureResult
from schedopt.records import RecordReader

if TYPE_CHECKING:
    import xgboost

MAX_BOOST_ROUNDS = 10_000
EARLY_STOPPING_ROUNDS = 50
ADAPTIVE_TRAINING_RATIO = 5
"""With adaptive training, retrain only once the records grew by a fifth since the last training."""


class CostModelError(SchedOptError):
    """A cost model was used in a way it cannot serve (saved before training, missing file)."""


def _xgboost() -> Any:
    """XGBoost, imported on first use: `import schedopt` stays fast."""
    import xgboost

    return xgboost


class XGBModel(CostModel):
    """XGBoost on per-stage features, trained with the pack-sum loss (TVM's `auto_scheduler.XGBModel`).

    - `verbose_eval`: print the training RMSE every this many rounds (0: never).
    - `num_warmup_sample`: predict randomly until more measurements than this exist.
    - `seed`: the seed of training and of the random predictions (None: 43 for training).
    - `model_file`: load the model from this file if it exists, and save it there after each training.
    - `adaptive_training`: retrain only when the measurements grew by a fifth since the last
      training (TVM spells it `adapative_training`).
    """

    def __init__(
        self,
        verbose_eval: int = 25,
        num_warmup_sample: int = 100,
        seed: int | None = None,
        model_file: str | os.PathLike[str] | None = None,
        adaptive_training: bool = False,
    ):
        self.xgb_params: dict[str, Any] = {
            "max_depth": 10,
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
        self.rng = np.random.default_rng(seed)
        self.bst: xgboost.Booster | None = None
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
        new_features, throughputs, _ = get_per_store_features_from_measure_pairs(
            self.inputs, self.results, skip_first_n_feature_extraction=len(self.features)
        )
        self.features += new_features[len(self.features) :]
        self.bst = self._train(self.features, throughputs)
        if self.model_file is not None:
            self.save(self.model_file)

    def update_from_file(self, file_name: str | os.PathLike[str], n_lines: int | None = None) -> None:
        """Learn from the first `n_lines` records of a record file (None: all); records of
        workloads the registry does not know raise `WorkloadError`."""
        inputs, results = RecordReader(file_name).read_lines(n_lines)
        self.update(inputs, results)

    def _train(self, features: Sequence[np.ndarray], throughputs: np.ndarray) -> xgboost.Booster:
        xgb = _xgboost()
        rows, pack_ids = _pack(features)
        labels = throughputs[pack_ids]
        dtrain = xgb.DMatrix(rows, label=labels)

        def pack_sum_square_error(preds: np.ndarray, data: Any) -> tuple[np.ndarray, np.ndarray]:
            sums = np.bincount(pack_ids, weights=preds, minlength=len(features))[pack_ids]
            return (sums - labels) * labels, labels.copy()

        def pack_sum_rmse(preds: np.ndarray, data: Any) -> tuple[str, float]:
            sums = np.bincount(pack_ids, weights=preds, minlength=len(features))
            return "p-rmse", float(np.sqrt(np.mean(np.square(sums - throughputs))))

        return xgb.train(
            self.xgb_params,
            dtrain,
            num_boost_round=MAX_BOOST_ROUNDS,
            obj=pack_sum_square_error,
            custom_metric=pack_sum_rmse,
            evals=[(dtrain, "tr")],
            early_stopping_rounds=EARLY_STOPPING_ROUNDS,
            verbose_eval=self.verbose_eval if self.verbose_eval > 0 else False,
        )

    # --- predicting ---------------------------------------------------------------------------

    def predict(self, task: Any, states: Sequence[State]) -> list[float]:
        """A score per state: the sum of its stages' predicted throughputs (random while warming up)."""
        features = get_per_store_features_from_states(states, task)
        return self._scores(features, self._stage_scores(features)).tolist()

    def predict_stages(self, task: Any, states: Sequence[State]) -> np.ndarray:
        """Scores of the states and of their stages, in TVM's packed format (see `CostModel`).

        The stages of a state are those that store a buffer (compute stages
        not inlined), in the state's order; while the model warms up every
        `n_i` is 0.
        """
        features = get_per_store_features_from_states(states, task)
        stage_scores = self._stage_scores(features)
        packed: list[float] = self._scores(features, stage_scores).tolist()
        for scores in stage_scores if stage_scores is not None else [np.zeros(0)] * len(states):
            packed.append(float(len(scores)))
            packed += scores.tolist()
        return np.asarray(packed, dtype=np.float32)

    def _stage_scores(self, features: Sequence[np.ndarray]) -> list[np.ndarray] | None:
        """The model's score of every row of every state, None while the model warms up."""
        if self.bst is None or len(self.inputs) <= self.num_warmup_sample or not features:
            return None
        xgb = _xgboost()
        rows, pack_ids = _pack(features)
        preds = self.bst.predict(xgb.DMatrix(rows))
        return np.split(preds, np.cumsum(np.bincount(pack_ids, minlength=len(features)))[:-1])

    def _scores(self, features: Sequence[np.ndarray], stage_scores: list[np.ndarray] | None) -> np.ndarray:
        if stage_scores is None:
            scores = self.rng.uniform(0.0, 1.0, len(features))
        else:
            scores = np.array([float(s.sum()) for s in stage_scores])
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
        xgb = _xgboost()
        booster = xgb.Booster(self.xgb_params)
        try:
            booster.load_model(name)
        except xgb.core.XGBoostError as error:
            raise CostModelError(f"XGBModel.load: {name!r} is not an XGBoost model: {error}") from None
        self.bst = booster
        self.num_warmup_sample = -1


def _pack(features: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """All rows of all programs, and the index of the program (pack) of each row."""
    rows = np.concatenate(features) if features else np.zeros((0, 0), dtype=np.float32)
    pack_ids = np.repeat(np.arange(len(features)), [len(f) for f in features])
    return rows, pack_ids
