"""The schedule IR: loop States, their transform steps, bound inference and loop nests.

`stage` and `loop_state` hold the search's view of a program (stages,
iterators, the step history); `transform_steps` the 14 Ansor steps and
their record format; `schedule_program` a State as a transform program of
`sched` ops and back; `loop_nest` and `bound_inference` the loop structure
and extents a State implies; `loop_nest_emitter` the State lowered to
`scf`/`memref`/`arith` loop nests.
"""
