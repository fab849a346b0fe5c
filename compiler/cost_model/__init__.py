"""Cost models that rank candidate programs before any is measured."""

from schedopt.cost_model.cost_model import CostModel, RandomModel
from schedopt.cost_model.xgb_model import XGBModel

__all__ = ["CostModel", "RandomModel", "XGBModel"]
