// RUN: sched-opt %s -p unroll-annotated-loops --split-input-file | filecheck %s

// An annotated loop of constant bounds becomes copies of its body, one per iteration.
func.func @unrolled(%A: memref<3xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  scf.for %i = %c0 to %c3 step %c1 {
    memref.store %x, %A[%i] : memref<3xf32>
  } {sched.annotation = #sched<loop_annotation unroll>}
  func.return
}

// CHECK-LABEL: func.func @unrolled
// CHECK-NOT:     scf.for
// CHECK:         %c3 = arith.constant 3 : index
// CHECK-NEXT:    %[[I0:.*]] = arith.constant 0 : index
// CHECK-NEXT:    memref.store %x, %A[%[[I0]]] : memref<3xf32>
// CHECK-NEXT:    %[[I1:.*]] = arith.constant 1 : index
// CHECK-NEXT:    memref.store %x, %A[%[[I1]]] : memref<3xf32>
// CHECK-NEXT:    %[[I2:.*]] = arith.constant 2 : index
// CHECK-NEXT:    memref.store %x, %A[%[[I2]]] : memref<3xf32>
// CHECK-NEXT:    func.return

// -----

// Loops without the annotation, or annotated otherwise, stay loops.
func.func @kept(%A: memref<3xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  scf.for %i = %c0 to %c3 step %c1 {
    memref.store %x, %A[%i] : memref<3xf32>
  }
  scf.for %j = %c0 to %c3 step %c1 {
    memref.store %x, %A[%j] : memref<3xf32>
  } {sched.annotation = #sched<loop_annotation parallel>}
  func.return
}

// CHECK-LABEL: func.func @kept
// CHECK:         scf.for %i = %c0 to %c3 step %c1 {
// CHECK:         scf.for %j = %c0 to %c3 step %c1 {
// CHECK:         } {sched.annotation = #sched<loop_annotation parallel>}

// -----

// Nested annotated loops unroll innermost first: 2 x 2 stores, no loop left.
func.func @nested(%A: memref<2x2xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  scf.for %i = %c0 to %c2 step %c1 {
    scf.for %j = %c0 to %c2 step %c1 {
      memref.store %x, %A[%i, %j] : memref<2x2xf32>
    } {sched.annotation = #sched<loop_annotation unroll>}
  } {sched.annotation = #sched<loop_annotation unroll>}
  func.return
}

// CHECK-LABEL: func.func @nested
// CHECK-NOT:     scf.for
// CHECK-COUNT-4: memref.store %x, %A[%{{.*}}, %{{.*}}] : memref<2x2xf32>
// CHECK-NEXT:    func.return
