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
  %C_local = sched.cache_write %C "local"
  transform.yield
}

// C's reduction is computed into a new stage C.local; C becomes a copy of it.
// CHECK-NOT:  transform.
// CHECK:      %C_local = memref.alloc() {alignment = 64 : i64} : memref<8x6xf32>
// CHECK:      memref.load %B
// CHECK:      %[[ACC:.*]] = memref.load %C_local[%{{.*}}, %{{.*}}] : memref<8x6xf32>
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %[[ACC]], %{{.*}} : f32
// CHECK-NEXT: memref.store %[[SUM]], %C_local[%{{.*}}, %{{.*}}] : memref<8x6xf32>
// CHECK:      %C = memref.alloc() {alignment = 64 : i64} : memref<8x6xf32>
// CHECK-NEXT: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT:   scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT:     %[[V:.*]] = memref.load %C_local[%[[I]], %[[J]]] : memref<8x6xf32>
// CHECK-NEXT:     memref.store %[[V]], %C[%[[I]], %[[J]]] : memref<8x6xf32>
// CHECK:      arith.maximumf
