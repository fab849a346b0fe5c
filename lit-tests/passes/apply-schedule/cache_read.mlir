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
  %A = sched.get_stage "A" in %root : (!transform.any_op) -> !sched.stage
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %A_shared = sched.cache_read %A "shared" readers [%C]
  transform.yield
}

// A new stage A.shared copies A; C reads the copy instead of A.
// CHECK-NOT:  transform.
// CHECK:      %A_shared = memref.alloc() {alignment = 64 : i64} : memref<8x4xf32>
// CHECK-NEXT: scf.for %[[AX0:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT:   scf.for %[[AX1:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT:     %[[V:.*]] = memref.load %A[%[[AX0]], %[[AX1]]] : memref<8x4xf32>
// CHECK-NEXT:     memref.store %[[V]], %A_shared[%[[AX0]], %[[AX1]]] : memref<8x4xf32>
// CHECK:      %C = memref.alloc()
// CHECK-NOT:  memref.load %A[
// CHECK:      memref.load %A_shared[%{{.*}}, %{{.*}}] : memref<8x4xf32>
// CHECK:      arith.addf
// CHECK:      memref.dealloc %A_shared : memref<8x4xf32>
