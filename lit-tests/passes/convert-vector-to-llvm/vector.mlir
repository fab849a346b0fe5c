// RUN: sched-opt %s -p convert-vector-to-llvm | filecheck %s

func.func @vectors(%s: f32, %v: vector<8xf32>, %w: vector<8xf32>, %lane: index) -> (vector<8xf32>, f32) {
  %b = vector.broadcast %s : f32 to vector<8xf32>
  %i = vector.insert %s, %v [3] : f32 into vector<8xf32>
  %d = vector.insert %s, %i [%lane] : f32 into vector<8xf32>
  %f = vector.fma %d, %b, %w : vector<8xf32>
  %e = vector.extract %f[5] : f32 from vector<8xf32>
  func.return %f, %e : vector<8xf32>, f32
}

// A broadcast is LLVM's splat idiom: insert at lane 0, shuffle with a zero mask.
// CHECK-LABEL: func.func @vectors(
// CHECK:         %[[U:.*]] = llvm.mlir.undef : vector<8xf32>
// CHECK-NEXT:    %[[Z:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT:    %[[L0:.*]] = llvm.insertelement %s, %[[U]][%[[Z]] : i32] : vector<8xf32>
// CHECK-NEXT:    %[[B:.*]] = llvm.shufflevector %[[L0]], %[[U]] [0, 0, 0, 0, 0, 0, 0, 0] : vector<8xf32>

// Inserts at a constant and at a dynamic position (index as i64).
// CHECK-NEXT:    %[[THREE:.*]] = llvm.mlir.constant(3) : i64
// CHECK-NEXT:    %[[I:.*]] = llvm.insertelement %s, %v[%[[THREE]] : i64] : vector<8xf32>
// CHECK-NEXT:    %[[LANE:.*]] = builtin.unrealized_conversion_cast %lane : index to i64
// CHECK-NEXT:    %[[D:.*]] = llvm.insertelement %s, %[[I]][%[[LANE]] : i64] : vector<8xf32>

// fma is the intrinsic, mangled with the vector type.
// CHECK-NEXT:    %[[F:.*]] = llvm.call_intrinsic "llvm.fma.v8f32"(%[[D]], %[[B]], %w) : (vector<8xf32>, vector<8xf32>, vector<8xf32>) -> vector<8xf32>

// An extract is a one-lane shuffle, bitcast to the scalar.
// CHECK-NEXT:    %[[ONE:.*]] = llvm.shufflevector %[[F]], %[[F]] [5] : vector<8xf32>
// CHECK-NEXT:    %[[E:.*]] = llvm.bitcast %[[ONE]] : vector<1xf32> to f32
// CHECK-NEXT:    func.return %[[F]], %[[E]] : vector<8xf32>, f32
