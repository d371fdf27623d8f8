"""Plots and the self-contained HTML report; matplotlib is imported only when drawing."""

from deepstep.report.html import build_report
from deepstep.report.plots import confusion_matrix, plot_confusion, plot_costs, plot_mislabeled

__all__ = ["build_report", "confusion_matrix", "plot_confusion", "plot_costs", "plot_mislabeled"]
