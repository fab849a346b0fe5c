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

// -----

// What the induction variable decides folds while the body is copied: the
// select chain of a constant matrix becomes its entries, a product with a
// zero entry is zero, and adding it leaves the sum as it was (TVM's
// simplifications of a const-tensor stage).
func.func @folded(%A: memref<2xf32>, %B: memref<2xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f32
  %three = arith.constant 3.0 : f32
  scf.for %i = %c0 to %c2 step %c1 {
    %first = arith.cmpi eq, %i, %c0 : index
    %entry = arith.select %first, %zero, %three : f32
    %x = memref.load %B[%i] : memref<2xf32>
    %term = arith.mulf %x, %entry : f32
    %acc = memref.load %A[%c0] : memref<2xf32>
    %sum = arith.addf %acc, %term : f32
    memref.store %sum, %A[%c0] : memref<2xf32>
  } {sched.annotation = #sched<loop_annotation unroll>}
  func.return
}

// CHECK-LABEL: func.func @folded
// CHECK-NOT:     arith.cmpi
// CHECK-NOT:     arith.select
// CHECK:         %three = arith.constant 3.000000e+00 : f32
// CHECK-NEXT:    %[[I0:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %{{.*}} = memref.load %B[%[[I0]]] : memref<2xf32>
// CHECK-NEXT:    %[[ACC0:.*]] = memref.load %A[%c0] : memref<2xf32>
// CHECK-NEXT:    memref.store %[[ACC0]], %A[%c0] : memref<2xf32>
// CHECK-NEXT:    %[[I1:.*]] = arith.constant 1 : index
// CHECK-NEXT:    %[[X1:.*]] = memref.load %B[%[[I1]]] : memref<2xf32>
// CHECK-NEXT:    %[[T1:.*]] = arith.mulf %[[X1]], %three : f32
// CHECK-NEXT:    %[[ACC1:.*]] = memref.load %A[%c0] : memref<2xf32>
// CHECK-NEXT:    %[[S1:.*]] = arith.addf %[[ACC1]], %[[T1]] : f32
// CHECK-NEXT:    memref.store %[[S1]], %A[%c0] : memref<2xf32>
// CHECK-NEXT:    func.return

// -----

// Index arithmetic on the induction variable folds to constants, each made
// once: the copies store at [i / 2, i % 2] through two shared constants.
func.func @index_math(%A: memref<2x2xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c0 to %c4 step %c1 {
    %q = arith.divui %i, %c2 : index
    %r = arith.remui %i, %c2 : index
    memref.store %x, %A[%q, %r] : memref<2x2xf32>
  } {sched.annotation = #sched<loop_annotation unroll>}
  func.return
}

// CHECK-LABEL: func.func @index_math
// CHECK:         %c4 = arith.constant 4 : index
// CHECK-NEXT:    %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-NEXT:    memref.store %x, %A[%[[ZERO]], %[[ZERO]]] : memref<2x2xf32>
// CHECK-NEXT:    %[[ONE:.*]] = arith.constant 1 : index
// CHECK-NEXT:    memref.store %x, %A[%[[ZERO]], %[[ONE]]] : memref<2x2xf32>
// CHECK-NEXT:    memref.store %x, %A[%[[ONE]], %[[ZERO]]] : memref<2x2xf32>
// CHECK-NEXT:    memref.store %x, %A[%[[ONE]], %[[ONE]]] : memref<2x2xf32>
// CHECK-NEXT:    func.return
