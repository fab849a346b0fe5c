// RUN: sched-opt %s -p convert-math-to-llvm --split-input-file --verify-diagnostics | filecheck %s

func.func @ipowi(%x: i32) -> i32 {
  %y = math.ipowi %x, %x : i32
  func.return %y : i32
}

// CHECK: convert-math-to-llvm: math.ipowi is not supported

// -----

func.func @vector_erf(%x: vector<4xf32>) -> vector<4xf32> {
  %y = math.erf %x : vector<4xf32>
  func.return %y : vector<4xf32>
}

// CHECK: convert-math-to-llvm: math.erf on vector<4xf32> is not supported (only f32 and f64 scalars, through the C math library)
