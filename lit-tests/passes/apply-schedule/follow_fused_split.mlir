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
  %io, %ii = sched.split %C, %i by [4] : !sched.iter, !sched.iter
  %jo, %ji = sched.split %C, %j by [2] : !sched.iter, !sched.iter
  %D = sched.get_stage "D" in %root : (!transform.any_op) -> !sched.stage
  %Di, %Dj = sched.get_iters %D : !sched.iter, !sched.iter
  %Dij = sched.fuse %D, [%Di, %Dj]
  %Do, %Dn = sched.follow_fused_split %D, %Dij src_steps [0, 1] level 0 : !sched.iter, !sched.iter
  transform.yield
}

// D's fused i@j loop (48 iterations) is split by the product of level 0 of
// C's two splits (4 * 2 = 8): 6 outer times 8 inner, and i, j are recovered
// from the fused index f: i = f / 6, j = f - i * 6.
// CHECK-NOT:  transform.
// CHECK-DAG:  %[[C6:.*]] = arith.constant 6 : index
// CHECK-DAG:  %[[C8:.*]] = arith.constant 8 : index
// CHECK:      arith.addf
// CHECK:      scf.for %[[O:.*]] = %{{.*}} to %[[C6]] step %{{.*}} {
// CHECK-NEXT:   scf.for %[[N:.*]] = %{{.*}} to %[[C8]] step %{{.*}} {
// CHECK-NEXT:     %[[OS:.*]] = arith.muli %[[O]], %[[C8]] : index
// CHECK-NEXT:     %[[F:.*]] = arith.addi %[[OS]], %[[N]] : index
// CHECK-NEXT:     %[[I:.*]] = arith.divui %[[F]], %[[C6]] : index
// CHECK-NEXT:     %[[I6:.*]] = arith.muli %[[I]], %[[C6]] : index
// CHECK-NEXT:     %[[J:.*]] = arith.subi %[[F]], %[[I6]] : index
// CHECK-NEXT:     memref.load %C[%[[I]], %[[J]]] : memref<8x6xf32>
// CHECK:          arith.maximumf
// CHECK-NEXT:     memref.store %{{.*}}, %D[%[[I]], %[[J]]] : memref<8x6xf32>
