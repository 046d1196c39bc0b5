"""Evaluation: one evaluator per task (`python -m core.eval NAME --data DIR`) and the figures; the
metric networks and formulas live in core.metrics."""
