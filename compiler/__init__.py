"""sched-opt: an Ansor-style auto-scheduler for tensor programs on xDSL.

The public API mirrors `tvm.auto_scheduler`.
"""
