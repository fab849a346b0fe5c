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
  %ko, %ki = sched.split %C, %k by [2] : !sched.iter, !sched.iter
  %C_rf = sched.rfactor %C, %ki factor_axis 0
  transform.yield
}

// The inner half k.1 of the split reduction becomes the outer spatial axis of
// C.rf (factor_axis 0), which sums over k.0; C then sums C.rf's 2 partial sums.
// CHECK-NOT:  transform.
// CHECK:      %C_rf = memref.alloc() {alignment = 64 : i64} : memref<2x8x6xf32>
// CHECK-NEXT: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT:   scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT:     scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:            memref.store %{{.*}}, %C_rf[%[[K]], %[[I]], %[[J]]] : memref<2x8x6xf32>
// CHECK:            scf.for
// CHECK:              arith.mulf
// CHECK:              memref.store %{{.*}}, %C_rf[%[[K]], %[[I]], %[[J]]] : memref<2x8x6xf32>
// CHECK:      %C = memref.alloc() {alignment = 64 : i64} : memref<8x6xf32>
// CHECK:        memref.store %{{.*}}, %C[%{{.*}}, %{{.*}}] : memref<8x6xf32>
// CHECK-NEXT:   scf.for %[[KR:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT:     %[[PART:.*]] = memref.load %C_rf[%[[KR]], %{{.*}}, %{{.*}}] : memref<2x8x6xf32>
// CHECK-NEXT:     %[[ACC:.*]] = memref.load %C[%{{.*}}, %{{.*}}] : memref<8x6xf32>
// CHECK-NEXT:     arith.addf %[[ACC]], %[[PART]] : f32
// CHECK:      memref.dealloc %C_rf : memref<2x8x6xf32>
