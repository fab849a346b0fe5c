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
  %Di, %Dj = sched.get_iters %D : !sched.iter, !sched.iter
  %io, %ii = sched.split %D, %Di by [4] : !sched.iter, !sched.iter
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  sched.compute_at %C at %D, %io
  sched.compute_root %C
  transform.yield
}

// compute_root undoes the compute_at: C is computed over its whole domain
// into a buffer of its own, before D's loops, and freed at the end.
// CHECK-NOT:  transform.
// CHECK:      %C = memref.alloc() {alignment = 64 : i64} : memref<8x6xf32>
// CHECK-NEXT: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT:   scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:          memref.store %{{.*}}, %C[%[[I]], %[[J]]] : memref<8x6xf32>
// CHECK:          arith.addf
// CHECK:      scf.for
// CHECK-NOT:    memref.alloca
// CHECK:        arith.maximumf
// CHECK:      memref.dealloc %C : memref<8x6xf32>
