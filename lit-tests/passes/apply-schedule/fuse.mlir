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
  %D = sched.get_stage "D" in %root : (!transform.any_op) -> !sched.stage
  %i, %j = sched.get_iters %D : !sched.iter, !sched.iter
  %ij = sched.fuse %D, [%i, %j]
  transform.yield
}

// D's two loops become one of 48 iterations; i = f / 6 and j = f - i * 6.
// CHECK:      func.func @matmul_relu
// CHECK-DAG:  %[[C6:.*]] = arith.constant 6 : index
// CHECK-DAG:  %[[C48:.*]] = arith.constant 48 : index
// CHECK:      arith.addf
// CHECK:      scf.for %[[F:.*]] = %{{.*}} to %[[C48]] step %{{.*}} {
// CHECK-NEXT:   %[[I:.*]] = arith.divui %[[F]], %[[C6]] : index
// CHECK-NEXT:   %[[I6:.*]] = arith.muli %[[I]], %[[C6]] : index
// CHECK-NEXT:   %[[J:.*]] = arith.subi %[[F]], %[[I6]] : index
// CHECK-NEXT:   memref.load %C[%[[I]], %[[J]]] : memref<8x6xf32>
// CHECK:        memref.store %{{.*}}, %D[%[[I]], %[[J]]] : memref<8x6xf32>
// CHECK-NEXT: }
