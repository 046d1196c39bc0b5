"""Evaluation: metrics and one evaluator per task (`python -m core.eval NAME --data DIR`)."""
