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
  %jo, %ji = sched.split %C, %j by [4] : !sched.iter, !sched.iter
  transform.yield
}

// The schedule is gone; C's i becomes i.0 (extent 2) times i.1 (extent 4),
// and j (extent 6) a non-dividing 2 x 4 split whose tail is guarded.
// CHECK-NOT:  transform.
// CHECK:      func.func @matmul_relu(%A: memref<8x4xf32> {te.name = "A"}, %B: memref<4x6xf32> {te.name = "B"}, %D: memref<8x6xf32> {te.name = "D"}) {
// CHECK-DAG:    %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:    %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG:    %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG:    %[[C6:.*]] = arith.constant 6 : index
// CHECK:        scf.for %[[IO:.*]] = %[[C0]] to %[[C2]] step %{{.*}} {
// CHECK-NEXT:     scf.for %[[II:.*]] = %[[C0]] to %[[C4]] step %{{.*}} {
// CHECK-NEXT:       scf.for %[[JO:.*]] = %[[C0]] to %[[C2]] step %{{.*}} {
// CHECK-NEXT:         scf.for %[[JI:.*]] = %[[C0]] to %[[C4]] step %{{.*}} {
// CHECK:                %[[J:.*]] = arith.addi %{{.*}}, %[[JI]] : index
// CHECK:                arith.cmpi slt, %[[J]], %[[C6]] : index
// CHECK:                scf.if
// CHECK:        arith.maximumf
// CHECK-NOT:  transform.
