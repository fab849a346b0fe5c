// RUN: sched-opt %s -p te-lower | filecheck %s

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

// The outputs become out-parameters; the intermediate stage gets a buffer.
// CHECK:      func.func @matmul_relu(%A: memref<8x4xf32> {te.name = "A"}, %B: memref<4x6xf32> {te.name = "B"}, %D: memref<8x6xf32> {te.name = "D"}) {
// CHECK:        %C = memref.alloc() {alignment = 64 : i64} : memref<8x6xf32>
// CHECK:        scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:          scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT:       %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:       memref.store %[[ZERO]], %C[%[[I]], %[[J]]] : memref<8x6xf32>
// CHECK:            scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT:         %[[A:.*]] = memref.load %A[%[[I]], %[[K]]] : memref<8x4xf32>
// CHECK-NEXT:         %[[B:.*]] = memref.load %B[%[[K]], %[[J]]] : memref<4x6xf32>
// CHECK-NEXT:         %[[P:.*]] = arith.mulf %[[A]], %[[B]] : f32
// CHECK-NEXT:         %[[ACC:.*]] = memref.load %C[%[[I]], %[[J]]] : memref<8x6xf32>
// CHECK-NEXT:         %[[SUM:.*]] = arith.addf %[[ACC]], %[[P]] : f32
// CHECK-NEXT:         memref.store %[[SUM]], %C[%[[I]], %[[J]]] : memref<8x6xf32>
// CHECK:          arith.maximumf
// CHECK:          memref.store %{{.*}}, %D[%{{.*}}, %{{.*}}] : memref<8x6xf32>
// CHECK:        memref.dealloc %C : memref<8x6xf32>
// CHECK-NEXT:   func.return
