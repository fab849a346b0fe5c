// RUN: sched-opt %s -p apply-schedule | filecheck %s

func.func @scale_shift(%A: tensor<16xf32> {te.name = "A"}) -> tensor<16xf32> {
  %B = te.compute "B" spatial(i: 16) ins(%A : tensor<16xf32>) -> tensor<16xf32> {
  ^bb0(%i: index):
    %a = te.read %A[%i] : tensor<16xf32>
    %two = arith.constant 2.0 : f32
    %s = arith.mulf %a, %two : f32
    te.yield %s : f32
  }
  %C = te.compute "C" spatial(i: 16) ins(%B : tensor<16xf32>) -> tensor<16xf32> {
  ^bb0(%i: index):
    %b = te.read %B[%i] : tensor<16xf32>
    %one = arith.constant 1.0 : f32
    %t = arith.addf %b, %one : f32
    te.yield %t : f32
  }
  func.return %C : tensor<16xf32>
}

transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %B = sched.get_stage "B" in %root : (!transform.any_op) -> !sched.stage
  sched.compute_inline %B
  transform.yield
}

// B has no buffer and no loop: it is evaluated where C reads it.
// CHECK:      func.func @scale_shift(%A: memref<16xf32> {te.name = "A"}, %C: memref<16xf32> {te.name = "C"}) {
// CHECK-NOT:    memref.alloc
// CHECK:        scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT:     %[[A:.*]] = memref.load %A[%[[I]]] : memref<16xf32>
// CHECK-NEXT:     %{{.*}} = arith.constant 2.000000e+00 : f32
// CHECK-NEXT:     %[[S:.*]] = arith.mulf %[[A]], %{{.*}} : f32
// CHECK-NEXT:     %{{.*}} = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:     %[[T:.*]] = arith.addf %[[S]], %{{.*}} : f32
// CHECK-NEXT:     memref.store %[[T]], %C[%[[I]]] : memref<16xf32>
// CHECK-NEXT:   }
// CHECK-NOT:    scf.for
