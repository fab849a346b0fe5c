// RUN: sched-opt %s -p convert-vector-to-llvm --split-input-file --verify-diagnostics | filecheck %s

func.func @broadcast_vector(%v: vector<1xf32>) -> vector<4xf32> {
  %b = vector.broadcast %v : vector<1xf32> to vector<4xf32>
  func.return %b : vector<4xf32>
}

// CHECK: convert-vector-to-llvm: vector.broadcast from vector<1xf32>: only scalars are supported

// -----

func.func @two_dimensions(%s: f32) -> vector<2x4xf32> {
  %b = vector.broadcast %s : f32 to vector<2x4xf32>
  func.return %b : vector<2x4xf32>
}

// CHECK: convert-vector-to-llvm: vector.broadcast on vector<2x4xf32>: only 1-D vectors are supported

// -----

func.func @dynamic_extract(%v: vector<4xf32>, %lane: index) -> f32 {
  %e = vector.extract %v[%lane] : f32 from vector<4xf32>
  func.return %e : f32
}

// CHECK: convert-vector-to-llvm: vector.extract: only scalars at constant positions are supported
