// RUN: sched-opt %s -p vectorize-annotated-loops --split-input-file | filecheck %s
// RUN: sched-opt %s -p 'vectorize-annotated-loops{max_lanes=2}' --split-input-file | filecheck %s --check-prefix=LIMIT

// A read of stride 2 gathers one element per lane; the store is contiguous.
func.func @gather(%A: memref<9xf32>, %B: memref<4xf32>, %offset: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  scf.for %l = %c0 to %c4 step %c1 {
    %twice = arith.muli %l, %c2 : index
    %i = arith.addi %twice, %offset : index
    %a = memref.load %A[%i] : memref<9xf32>
    %s = math.sqrt %a : f32
    memref.store %s, %B[%l] : memref<4xf32>
  } {sched.annotation = #sched<loop_annotation vectorize>}
  func.return
}

// CHECK-LABEL: func.func @gather
// CHECK-NOT:     scf.for
// CHECK:         %[[A0:.*]] = memref.load %A[%offset] : memref<9xf32>
// CHECK-NEXT:    %[[TWO:.*]] = arith.constant 2 : index
// CHECK-NEXT:    %[[I1:.*]] = arith.addi %offset, %[[TWO]] : index
// CHECK-NEXT:    %[[A1:.*]] = memref.load %A[%[[I1]]] : memref<9xf32>
// CHECK-NEXT:    %[[FOUR:.*]] = arith.constant 4 : index
// CHECK-NEXT:    %[[I2:.*]] = arith.addi %offset, %[[FOUR]] : index
// CHECK-NEXT:    %[[A2:.*]] = memref.load %A[%[[I2]]] : memref<9xf32>
// CHECK-NEXT:    %[[SIX:.*]] = arith.constant 6 : index
// CHECK-NEXT:    %[[I3:.*]] = arith.addi %offset, %[[SIX]] : index
// CHECK-NEXT:    %[[A3:.*]] = memref.load %A[%[[I3]]] : memref<9xf32>
// CHECK-NEXT:    %[[V0:.*]] = vector.broadcast %[[A0]] : f32 to vector<4xf32>
// CHECK-NEXT:    %[[V1:.*]] = vector.insert %[[A1]], %[[V0]] [1] : f32 into vector<4xf32>
// CHECK-NEXT:    %[[V2:.*]] = vector.insert %[[A2]], %[[V1]] [2] : f32 into vector<4xf32>
// CHECK-NEXT:    %[[V3:.*]] = vector.insert %[[A3]], %[[V2]] [3] : f32 into vector<4xf32>
// CHECK-NEXT:    %[[S:.*]] = math.sqrt %[[V3]] : vector<4xf32>
// CHECK-NEXT:    vector.store %[[S]], %B[%c0] : memref<4xf32>, vector<4xf32>
// CHECK-NEXT:    func.return

// LIMIT-LABEL: func.func @gather
// LIMIT:         scf.for
// LIMIT:         } {sched.annotation = #sched<loop_annotation vectorize>}

// -----

// A guard on an outer loop is the same in every lane: it stays a scalar
// scf.if, with vector code inside; so does a uniform if_then_else.
func.func @uniform_conditions(%A: memref<3x4xf32>, %B: memref<3x4xf32>, %r: index, %flag: i1) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  scf.for %l = %c0 to %c4 step %c1 {
    %in = arith.cmpi slt, %r, %c3 : index
    scf.if %in {
      %v = scf.if %flag -> (f32) {
        %a = memref.load %A[%r, %l] : memref<3x4xf32>
        scf.yield %a : f32
      } else {
        scf.yield %zero : f32
      }
      memref.store %v, %B[%r, %l] : memref<3x4xf32>
    }
  } {sched.annotation = #sched<loop_annotation vectorize>}
  func.return
}

// CHECK-LABEL: func.func @uniform_conditions
// CHECK-NOT:     scf.for
// CHECK:         %[[IN:.*]] = arith.cmpi slt, %r, %c3 : index
// CHECK-NEXT:    scf.if %[[IN]] {
// CHECK-NEXT:      %[[V:.*]] = scf.if %flag -> (vector<4xf32>) {
// CHECK-NEXT:        %[[A:.*]] = vector.load %A[%r, %c0] : memref<3x4xf32>, vector<4xf32>
// CHECK-NEXT:        scf.yield %[[A]] : vector<4xf32>
// CHECK-NEXT:      } else {
// CHECK-NEXT:        %[[Z:.*]] = vector.broadcast %zero : f32 to vector<4xf32>
// CHECK-NEXT:        scf.yield %[[Z]] : vector<4xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:      vector.store %[[V]], %B[%r, %c0] : memref<3x4xf32>, vector<4xf32>
// CHECK-NEXT:    }

// -----

// A guard on the vectorized loop itself depends on the lane: unrolled instead.
func.func @lane_guard(%A: memref<3xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %one = arith.constant 1.0 : f32
  scf.for %l = %c0 to %c4 step %c1 {
    %in = arith.cmpi slt, %l, %c3 : index
    scf.if %in {
      memref.store %one, %A[%l] : memref<3xf32>
    }
  } {sched.annotation = #sched<loop_annotation vectorize>}
  func.return
}

// CHECK-LABEL: func.func @lane_guard
// CHECK-NOT:     scf.for
// CHECK-NOT:     vector.
// CHECK-COUNT-4: memref.store %one, %A[%{{.*}}] : memref<3xf32>
// CHECK-NOT:     vector.
// CHECK:         func.return

// -----

// Every lane adds into the same element (a vectorized reduce loop): unrolled,
// including when the failure is found inside a region.
func.func @reduce_lanes(%A: memref<4xf32>, %S: memref<1xf32>, %flag: i1) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %l = %c0 to %c4 step %c1 {
    scf.if %flag {
      %a = memref.load %A[%l] : memref<4xf32>
      %s = memref.load %S[%c0] : memref<1xf32>
      %t = arith.addf %s, %a : f32
      memref.store %t, %S[%c0] : memref<1xf32>
    }
  } {sched.annotation = #sched<loop_annotation vectorize>}
  func.return
}

// CHECK-LABEL: func.func @reduce_lanes
// CHECK-NOT:     vector.
// CHECK-COUNT-4: memref.store %{{.*}}, %S[%c0] : memref<1xf32>
// CHECK-NOT:     vector.
// CHECK:         func.return

// -----

// Only innermost loops are vectorized; others keep their annotation.
func.func @not_innermost(%A: memref<4x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %one = arith.constant 1.0 : f32
  scf.for %l = %c0 to %c4 step %c1 {
    scf.for %m = %c0 to %c4 step %c1 {
      memref.store %one, %A[%m, %l] : memref<4x4xf32>
    }
  } {sched.annotation = #sched<loop_annotation vectorize>}
  func.return
}

// CHECK-LABEL: func.func @not_innermost
// CHECK:         scf.for
// CHECK:           scf.for
// CHECK:             memref.store
// CHECK:         } {sched.annotation = #sched<loop_annotation vectorize>}

// -----

// A select on one condition for all the lanes selects between vectors.
func.func @uniform_select(%A: memref<4xf32>, %flag: i1) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  scf.for %l = %c0 to %c4 step %c1 {
    %a = memref.load %A[%l] : memref<4xf32>
    %s = arith.select %flag, %a, %zero : f32
    memref.store %s, %A[%l] : memref<4xf32>
  } {sched.annotation = #sched<loop_annotation vectorize>}
  func.return
}

// CHECK-LABEL: func.func @uniform_select
// CHECK:         %[[A:.*]] = vector.load %A[%c0] : memref<4xf32>, vector<4xf32>
// CHECK-NEXT:    %[[Z:.*]] = vector.broadcast %zero : f32 to vector<4xf32>
// CHECK-NEXT:    %[[S:.*]] = arith.select %flag, %[[A]], %[[Z]] : vector<4xf32>
// CHECK-NEXT:    vector.store %[[S]], %A[%c0] : memref<4xf32>, vector<4xf32>

// -----

// A rewritten weight layout indexes its pieces by quotients and remainders of
// the lane's index. The base is a multiple of 8, so the 8 lanes stay between
// two multiples of 8 and of 32: the quotients are uniform, the remainder by 8
// is a ramp, and the load is contiguous.
func.func @layout_pieces(%W: memref<2x4x8xf32>, %B: memref<64xf32>, %t: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c32 = arith.constant 32 : index
  scf.for %l = %c0 to %c8 step %c1 {
    %base = arith.muli %t, %c8 : index
    %j = arith.addi %base, %l : index
    %q = arith.divui %j, %c32 : index
    %d = arith.divui %j, %c8 : index
    %m = arith.remui %d, %c4 : index
    %r = arith.remui %j, %c8 : index
    %w = memref.load %W[%q, %m, %r] : memref<2x4x8xf32>
    memref.store %w, %B[%j] : memref<64xf32>
  } {sched.annotation = #sched<loop_annotation vectorize>}
  func.return
}

// CHECK-LABEL: func.func @layout_pieces
// CHECK-NOT:     scf.for
// CHECK:         %base = arith.muli %t, %c8 : index
// CHECK-NEXT:    %[[Q:.*]] = arith.divui %base, %c32 : index
// CHECK-NEXT:    %[[D:.*]] = arith.divui %base, %c8 : index
// CHECK-NEXT:    %m = arith.remui %[[D]], %c4 : index
// CHECK-NEXT:    %[[R:.*]] = arith.remui %base, %c8 : index
// CHECK-NEXT:    %[[W:.*]] = vector.load %W[%[[Q]], %m, %[[R]]] : memref<2x4x8xf32>, vector<8xf32>
// CHECK-NEXT:    vector.store %[[W]], %B[%base] : memref<64xf32>, vector<8xf32>

// -----

// Lanes 32 apart: each quotient by 32 is one more than the last (a ramp of
// stride 1, contiguous), the remainder the same in every lane.
func.func @whole_strides(%A: memref<8xf32>, %B: memref<8x32xf32>, %t: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c32 = arith.constant 32 : index
  scf.for %l = %c0 to %c4 step %c1 {
    %far = arith.muli %l, %c32 : index
    %j = arith.addi %t, %far : index
    %q = arith.divui %j, %c32 : index
    %r = arith.remui %j, %c32 : index
    %a = memref.load %A[%q] : memref<8xf32>
    memref.store %a, %B[%r, %l] : memref<8x32xf32>
  } {sched.annotation = #sched<loop_annotation vectorize>}
  func.return
}

// CHECK-LABEL: func.func @whole_strides
// CHECK-NOT:     scf.for
// CHECK:         %[[Q:.*]] = arith.divui %t, %c32 : index
// CHECK-NEXT:    %[[R:.*]] = arith.remui %t, %c32 : index
// CHECK-NEXT:    %[[A:.*]] = vector.load %A[%[[Q]]] : memref<8xf32>, vector<4xf32>
// CHECK-NEXT:    vector.store %[[A]], %B[%[[R]], %c0] : memref<8x32xf32>, vector<4xf32>

// -----

// Nothing is known of %t, so lanes may cross a multiple of 8: unrolled.
func.func @unknown_base(%W: memref<8x8xf32>, %B: memref<64xf32>, %t: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %l = %c0 to %c8 step %c1 {
    %j = arith.addi %t, %l : index
    %q = arith.divui %j, %c8 : index
    %r = arith.remui %j, %c8 : index
    %w = memref.load %W[%q, %r] : memref<8x8xf32>
    memref.store %w, %B[%j] : memref<64xf32>
  } {sched.annotation = #sched<loop_annotation vectorize>}
  func.return
}

// CHECK-LABEL: func.func @unknown_base
// CHECK-NOT:     scf.for
// CHECK-NOT:     vector.load
// CHECK-COUNT-8: memref.load %W
