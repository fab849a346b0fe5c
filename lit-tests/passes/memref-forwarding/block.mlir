// RUN: sched-opt %s -p memref-forwarding --split-input-file | filecheck %s

// An unrolled accumulation: each load of the accumulator takes the value
// stored just before, each store but the last is overwritten unread, and
// the repeated load of the same input element is the first one's value.
func.func @accumulate(%acc: memref<2xf32>, %x: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a0 = memref.load %acc[%c0] : memref<2xf32>
  %x0 = memref.load %x[%c0] : memref<4xf32>
  %s0 = arith.addf %a0, %x0 : f32
  memref.store %s0, %acc[%c0] : memref<2xf32>
  %b0 = memref.load %acc[%c1] : memref<2xf32>
  memref.store %x0, %acc[%c1] : memref<2xf32>
  %a1 = memref.load %acc[%c0] : memref<2xf32>
  %x1 = memref.load %x[%c0] : memref<4xf32>
  %s1 = arith.addf %a1, %x1 : f32
  memref.store %s1, %acc[%c0] : memref<2xf32>
  func.return
}

// CHECK-LABEL: func.func @accumulate
// CHECK:         %[[A0:.*]] = memref.load %acc[%c0] : memref<2xf32>
// CHECK-NEXT:    %[[X0:.*]] = memref.load %x[%c0] : memref<4xf32>
// CHECK-NEXT:    %[[S0:.*]] = arith.addf %[[A0]], %[[X0]] : f32
// CHECK-NEXT:    memref.store %[[X0]], %acc[%c1] : memref<2xf32>
// CHECK-NEXT:    %[[S1:.*]] = arith.addf %[[S0]], %[[X0]] : f32
// CHECK-NEXT:    memref.store %[[S1]], %acc[%c0] : memref<2xf32>
// CHECK-NEXT:    func.return

// -----

// An index that is not a constant may be any element: a store through it
// ends what is known of the others, and keeps the store before it alive.
func.func @may_alias(%acc: memref<2xf32>, %i: index, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = memref.load %acc[%c0] : memref<2xf32>
  memref.store %v, %acc[%c0] : memref<2xf32>
  memref.store %a, %acc[%i] : memref<2xf32>
  %b = memref.load %acc[%c0] : memref<2xf32>
  memref.store %b, %acc[%c1] : memref<2xf32>
  func.return
}

// CHECK-LABEL: func.func @may_alias
// CHECK:         %[[A:.*]] = memref.load %acc[%c0] : memref<2xf32>
// CHECK-NEXT:    memref.store %v, %acc[%c0] : memref<2xf32>
// CHECK-NEXT:    memref.store %[[A]], %acc[%i] : memref<2xf32>
// CHECK-NEXT:    %[[B:.*]] = memref.load %acc[%c0] : memref<2xf32>
// CHECK-NEXT:    memref.store %[[B]], %acc[%c1] : memref<2xf32>
// CHECK-NEXT:    func.return

// -----

// A loop (any region) or a call between two accesses: nothing is forwarded across it.
func.func @region(%acc: memref<2xf32>, %v: f32, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  memref.store %v, %acc[%c0] : memref<2xf32>
  scf.for %i = %c0 to %n step %c1 {
    memref.store %v, %acc[%c1] : memref<2xf32>
  }
  %a = memref.load %acc[%c0] : memref<2xf32>
  memref.store %a, %acc[%c1] : memref<2xf32>
  func.return
}

// CHECK-LABEL: func.func @region
// CHECK:         memref.store %v, %acc[%c0] : memref<2xf32>
// CHECK:         scf.for
// CHECK:         %[[A:.*]] = memref.load %acc[%c0] : memref<2xf32>
// CHECK-NEXT:    memref.store %[[A]], %acc[%c1] : memref<2xf32>
