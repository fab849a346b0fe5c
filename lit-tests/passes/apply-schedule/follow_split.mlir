// RUN: sched-opt %s -p apply-schedule | filecheck %s

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
  %i0, %i1, %i2 = sched.split %C, %i by [2, 2] : !sched.iter, !sched.iter, !sched.iter
  %D = sched.get_stage "D" in %root : (!transform.any_op) -> !sched.stage
  %di, %dj = sched.get_iters %D : !sched.iter, !sched.iter
  %di0, %di1, %di2 = sched.follow_split %D, %di src_step 0 n_split 2 : !sched.iter, !sched.iter, !sched.iter
  transform.yield
}

// D's i is split like C's (step 0): 2 x 2 x 2, then j.
// CHECK:      func.func @matmul_relu
// CHECK-DAG:  %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG:  %[[C6:.*]] = arith.constant 6 : index
// CHECK:      arith.addf
// CHECK:      scf.for %{{.*}} = %{{.*}} to %[[C2]] step %{{.*}} {
// CHECK-NEXT:   scf.for %{{.*}} = %{{.*}} to %[[C2]] step %{{.*}} {
// CHECK-NEXT:     scf.for %{{.*}} = %{{.*}} to %[[C2]] step %{{.*}} {
// CHECK-NEXT:       scf.for %{{.*}} = %{{.*}} to %[[C6]] step %{{.*}} {
// CHECK:              arith.maximumf
