// RUN: sched-opt %s -p apply-schedule | filecheck %s
// RUN: sed 's/auto_unroll_max_step\$8/unroll_explicit/' %s | not sched-opt -p apply-schedule 2>&1 | filecheck %s --check-prefix=BAD

func.func @matmul_relu(%A: tensor<8x4xf32> {te.name = "A"}, %B: tensor<4x6xf32> {te.name = "B"}) -> tensor<8x6xf32> {
  %C = te.compute "C" spatial(i: 8, j: 6) reduce<sum>(k: 4) ins(%A, %B : tensor<8x4xf32>, tensor<4x6xf32>) -> tensor<8x6xf32> {
  ^bb0(%i: index, %j: index, %k: index):
    %a = te.read %A[%i, %k] : tensor<8x4xf32>
    %b = te.read %B[%k, %j] : tensor<4x6xf32>
    %p = arith.mulf %a, %b : f32
    te.yield %p : f32
  }
  %D = te.compute "D" spatial(i: 8, j: 6) ins(%C : tensor<8x6xf32>) -> tensor<8x6xf32> {
  ^bb0(%i: index, %j: index):
    %c = te.read %C[%i, %j] : tensor<8x6xf32>
    %z = arith.constant 0.0 : f32
    %m = arith.maximumf %c, %z : f32
    te.yield %m : f32
  }
  func.return %D : tensor<8x6xf32>
}

transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %i, %j, %k = sched.get_iters %C : !sched.iter, !sched.iter, !sched.iter
  sched.pragma %C, %i "auto_unroll_max_step$8"
  transform.yield
}

// The pragma is accepted and the function lowered; any other pragma is refused.
// CHECK-NOT:  transform.
// CHECK:      func.func @matmul_relu(%A: memref<8x4xf32> {te.name = "A"}
// CHECK-NOT:  transform.

// BAD: sched.pragma: pragma 'unroll_explicit' on stage C: only auto_unroll_max_step$N is supported
