// RUN: sched-opt %s -p te-lower | filecheck %s

// A read in a branch of scf.if stays inside the branch: padding never reads out of range.
func.func @pad(%A: tensor<4xf32> {te.name = "A"}) -> tensor<6xf32> {
  %P = te.compute "P" spatial(i: 6) ins(%A : tensor<4xf32>) -> tensor<6xf32> {
  ^bb0(%i: index):
    %c1 = arith.constant 1 : index
    %c5 = arith.constant 5 : index
    %lo = arith.cmpi sge, %i, %c1 : index
    %hi = arith.cmpi slt, %i, %c5 : index
    %in = arith.andi %lo, %hi : i1
    %v = scf.if %in -> (f32) {
      %x = arith.subi %i, %c1 : index
      %a = te.read %A[%x] : tensor<4xf32>
      scf.yield %a : f32
    } else {
      %z = arith.constant 0.0 : f32
      scf.yield %z : f32
    }
    te.yield %v : f32
  }
  func.return %P : tensor<6xf32>
}

// CHECK:      scf.if %{{.*}} -> (f32) {
// CHECK-NEXT:   %[[X:.*]] = arith.subi
// CHECK-NEXT:   %[[A:.*]] = memref.load %A[%[[X]]] : memref<4xf32>
// CHECK-NEXT:   scf.yield %[[A]] : f32
// CHECK-NEXT: } else {
