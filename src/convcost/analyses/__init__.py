"""Analyses: what convcost computes on an analysed network (compare, diff, budgets)."""
