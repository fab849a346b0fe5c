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
  sched.annotate %C, %i parallel
  sched.annotate %C, %k unroll
  %D = sched.get_stage "D" in %root : (!transform.any_op) -> !sched.stage
  %di, %dj = sched.get_iters %D : !sched.iter, !sched.iter
  sched.annotate %D, %dj vectorize
  transform.yield
}

// Annotations travel as sched.annotation attributes of the loops.
// CHECK:      scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:            arith.addf
// CHECK:          } {sched.annotation = #sched<loop_annotation unroll>}
// CHECK-NEXT:   }
// CHECK-NEXT: } {sched.annotation = #sched<loop_annotation parallel>}
// CHECK:      arith.maximumf
// CHECK:        } {sched.annotation = #sched<loop_annotation vectorize>}
// CHECK-NEXT: }
