"""Tuning: the loop that proposes, measures and records candidates for one task, and the TaskScheduler over many.

`tuning_loop` runs the rounds of one task; `scoreboard` keeps trials,
failures and each task's best for reports and early stopping;
`auto_schedule` makes the policies and cost models and offers TVM's
`auto_schedule`; `task_scheduler` shares a trial budget among a network's
tasks, with the callbacks of `task_scheduler_callbacks` and the latency
curve of `latency_curve`; `task_workflow` gives `SearchTask` its
tune/apply_best/print_best methods.
"""
