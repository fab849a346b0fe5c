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
  sched.reorder %C, [%j, %k, %i]
  transform.yield
}

// j outermost; the init nest runs over i inside j, then k, then i again.
// CHECK-DAG:  %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG:  %[[C6:.*]] = arith.constant 6 : index
// CHECK-DAG:  %[[C8:.*]] = arith.constant 8 : index
// CHECK:      scf.for %[[J:.*]] = %{{.*}} to %[[C6]] step %{{.*}} {
// CHECK-NEXT:   scf.for %[[I0:.*]] = %{{.*}} to %[[C8]] step %{{.*}} {
// CHECK:          memref.store %{{.*}}, %C[%[[I0]], %[[J]]] : memref<8x6xf32>
// CHECK-NEXT:   }
// CHECK-NEXT:   scf.for %[[K:.*]] = %{{.*}} to %[[C4]] step %{{.*}} {
// CHECK-NEXT:     scf.for %[[I:.*]] = %{{.*}} to %[[C8]] step %{{.*}} {
// CHECK-NEXT:       memref.load %A[%[[I]], %[[K]]] : memref<8x4xf32>
// CHECK-NEXT:       memref.load %B[%[[K]], %[[J]]] : memref<4x6xf32>
