// RUN: not sched-opt %s -p apply-schedule --split-input-file 2>&1 | filecheck %s --check-prefix=FIRST
// RUN: sched-opt %s -p apply-schedule --split-input-file --verify-diagnostics | filecheck %s

func.func @double(%A: tensor<8x8xf32> {te.name = "A"}) -> tensor<8x8xf32> {
  %B = te.compute "B" spatial(i: 8, j: 8) ins(%A : tensor<8x8xf32>) -> tensor<8x8xf32> {
  ^bb0(%i: index, %j: index):
    %a = te.read %A[%i, %j] : tensor<8x8xf32>
    %s = arith.addf %a, %a : f32
    te.yield %s : f32
  }
  func.return %B : tensor<8x8xf32>
}

transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %B = sched.get_stage "B" in %root : (!transform.any_op) -> !sched.stage
  %i, %j = sched.get_iters %B : !sched.iter, !sched.iter
  %io, %ii = sched.split %B, %i by [0] : !sched.iter, !sched.iter
  transform.yield
}

// FIRST: sched.split: split of i in stage B: factor 0 (factors must be positive integers)
// CHECK: sched.split: split of i in stage B: factor 0 (factors must be positive integers)

// -----

func.func @double(%A: tensor<8x8xf32> {te.name = "A"}) -> tensor<8x8xf32> {
  %B = te.compute "B" spatial(i: 8, j: 8) ins(%A : tensor<8x8xf32>) -> tensor<8x8xf32> {
  ^bb0(%i: index, %j: index):
    %a = te.read %A[%i, %j] : tensor<8x8xf32>
    %s = arith.addf %a, %a : f32
    te.yield %s : f32
  }
  func.return %B : tensor<8x8xf32>
}

transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %B = sched.get_stage "B" in %root : (!transform.any_op) -> !sched.stage
  %i, %j = sched.get_iters %B : !sched.iter, !sched.iter
  %io, %ii = sched.split %B, %i by [2] : !sched.iter, !sched.iter
  sched.annotate %B, %i parallel
  transform.yield
}

// CHECK: sched.annotate: loop i of stage B was consumed by sched.split (use the handles it returned)

// -----

func.func @double(%A: tensor<8x8xf32> {te.name = "A"}) -> tensor<8x8xf32> {
  %B = te.compute "B" spatial(i: 8, j: 8) ins(%A : tensor<8x8xf32>) -> tensor<8x8xf32> {
  ^bb0(%i: index, %j: index):
    %a = te.read %A[%i, %j] : tensor<8x8xf32>
    %s = arith.addf %a, %a : f32
    te.yield %s : f32
  }
  func.return %B : tensor<8x8xf32>
}

transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %X = sched.get_stage "X" in %root : (!transform.any_op) -> !sched.stage
  transform.yield
}

// CHECK: sched.get_stage: no stage 'X' (stages: A, B)

// -----

func.func @double(%A: tensor<8x8xf32> {te.name = "A"}) -> tensor<8x8xf32> {
  %B = te.compute "B" spatial(i: 8, j: 8) ins(%A : tensor<8x8xf32>) -> tensor<8x8xf32> {
  ^bb0(%i: index, %j: index):
    %a = te.read %A[%i, %j] : tensor<8x8xf32>
    %s = arith.addf %a, %a : f32
    te.yield %s : f32
  }
  func.return %B : tensor<8x8xf32>
}

transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %B = sched.get_stage "B" in %root : (!transform.any_op) -> !sched.stage
  %i, %j = sched.get_iters %B : !sched.iter, !sched.iter
  %f = sched.fuse %B, [%j, %i]
  transform.yield
}

// CHECK: sched.fuse: fuse in stage B: iterators j, i are not adjacent loops in order

// -----

func.func @double(%A: tensor<8x8xf32> {te.name = "A"}) -> tensor<8x8xf32> {
  %B = te.compute "B" spatial(i: 8, j: 8) ins(%A : tensor<8x8xf32>) -> tensor<8x8xf32> {
  ^bb0(%i: index, %j: index):
    %a = te.read %A[%i, %j] : tensor<8x8xf32>
    %s = arith.addf %a, %a : f32
    te.yield %s : f32
  }
  func.return %B : tensor<8x8xf32>
}

transform.named_sequence @schedule(%root: !transform.any_op) attributes {sched.target = @triple} {
  transform.yield
}

// CHECK: schedule @schedule: no te function @triple in the module
