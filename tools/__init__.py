"""Console scripts of sched-opt: the `sched-opt` driver."""
