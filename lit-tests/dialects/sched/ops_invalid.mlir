// RUN: sched-opt %s --verify-diagnostics --split-input-file | filecheck %s

transform.named_sequence @iter_where_stage_is_due(%root: !transform.any_op) {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %i, %j = sched.get_iters %C : !sched.iter, !sched.iter
  "sched.compute_inline"(%i) : (!sched.iter) -> ()
  transform.yield
}

// CHECK: !sched.iter should be of base attribute sched.stage

// -----

transform.named_sequence @stage_where_iter_is_due(%root: !transform.any_op) {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %a, %b = "sched.split"(%C, %C) <{lengths = array<i64: 4>}> : (!sched.stage, !sched.stage) -> (!sched.iter, !sched.iter)
  transform.yield
}

// CHECK: !sched.stage should be of base attribute sched.iter

// -----

transform.named_sequence @split_result_count(%root: !transform.any_op) {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %i = sched.get_iters %C : !sched.iter
  %a = "sched.split"(%C, %i) <{lengths = array<i64: 4, 2>}> : (!sched.stage, !sched.iter) -> !sched.iter
  transform.yield
}

// CHECK: sched.split: 2 lengths give 3 loops, but the op has 1 results

// -----

transform.named_sequence @split_without_lengths(%root: !transform.any_op) {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %i = sched.get_iters %C : !sched.iter
  %a = "sched.split"(%C, %i) <{lengths = array<i64>}> : (!sched.stage, !sched.iter) -> !sched.iter
  transform.yield
}

// CHECK: sched.split: at least one split length is needed

// -----

transform.named_sequence @follow_split_n_split(%root: !transform.any_op) {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %i = sched.get_iters %C : !sched.iter
  %a = "sched.follow_split"(%C, %i) <{src_step = 0 : i64, n_split = 0 : i64}> : (!sched.stage, !sched.iter) -> !sched.iter
  transform.yield
}

// CHECK: sched.follow_split: n_split must be at least 1, got 0

// -----

transform.named_sequence @follow_split_results(%root: !transform.any_op) {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %i = sched.get_iters %C : !sched.iter
  %a, %b = sched.follow_split %C, %i src_step 0 n_split 2 : !sched.iter, !sched.iter
  transform.yield
}

// CHECK: sched.follow_split: n_split 2 must give 3 loops, but the op has 2 results

// -----

transform.named_sequence @follow_fused_split_sources(%root: !transform.any_op) {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %i = sched.get_iters %C : !sched.iter
  %a, %b = sched.follow_fused_split %C, %i src_steps [] level 0 : !sched.iter, !sched.iter
  transform.yield
}

// CHECK: sched.follow_fused_split: src_steps must be one or more step indices, got []

// -----

transform.named_sequence @fuse_nothing(%root: !transform.any_op) {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %f = sched.fuse %C, []
  transform.yield
}

// CHECK: sched.fuse: at least one loop to fuse is needed

// -----

transform.named_sequence @cache_read_without_readers(%root: !transform.any_op) {
  %A = sched.get_stage "A" in %root : (!transform.any_op) -> !sched.stage
  %s = sched.cache_read %A "shared" readers []
  transform.yield
}

// CHECK: sched.cache_read: at least one reader stage is needed
