// RUN: sched-opt %s -p convert-math-to-llvm | filecheck %s

func.func @scalar(%x: f32) -> (f32, f32, f32, f32, f32) {
  %e = math.exp %x : f32
  %t = math.tanh %x : f32
  %r = math.rsqrt %x fastmath<fast> : f32
  %f = math.fma %x, %x, %x : f32
  %p = math.erf %x : f32
  func.return %e, %t, %r, %f, %p : f32, f32, f32, f32, f32
}

// Intrinsics are called by their mangled names; erf calls libm, declared once.
// CHECK-LABEL: func.func @scalar(%x: f32) -> (f32, f32, f32, f32, f32) {
// CHECK-NEXT:    %e = llvm.call_intrinsic "llvm.exp.f32"(%x) : (f32) -> f32
// CHECK-NEXT:    %t = llvm.call_intrinsic "llvm.tanh.f32"(%x) : (f32) -> f32
// CHECK-NEXT:    %[[SQRT:.*]] = llvm.call_intrinsic "llvm.sqrt.f32"(%x) : (f32) -> f32
// CHECK-NEXT:    %[[ONE:.*]] = llvm.mlir.constant(1.000000e+00 : f32) : f32
// CHECK-NEXT:    %[[R:.*]] = llvm.fdiv %[[ONE]], %[[SQRT]] {fastmathFlags = #llvm.fastmath<fast>} : f32
// CHECK-NEXT:    %f = llvm.intr.fma(%x, %x, %x) : (f32, f32, f32) -> f32
// CHECK-NEXT:    %p = llvm.call @erff(%x) : (f32) -> f32
// CHECK-NEXT:    func.return %e, %t, %[[R]], %f, %p : f32, f32, f32, f32, f32

func.func @vector(%v: vector<8xf32>, %w: vector<8xf64>, %n: i32) -> (vector<8xf32>, vector<8xf64>, i32) {
  %e = math.exp %v : vector<8xf32>
  %p = math.powf %w, %w : vector<8xf64>
  %a = math.absi %n : i32
  func.return %e, %p, %a : vector<8xf32>, vector<8xf64>, i32
}

// CHECK-LABEL: func.func @vector(
// CHECK-NEXT:    %e = llvm.call_intrinsic "llvm.exp.v8f32"(%v) : (vector<8xf32>) -> vector<8xf32>
// CHECK-NEXT:    %p = llvm.call_intrinsic "llvm.pow.v8f64"(%w, %w) : (vector<8xf64>, vector<8xf64>) -> vector<8xf64>
// CHECK-NEXT:    %[[FALSE:.*]] = llvm.mlir.constant(false) : i1
// CHECK-NEXT:    %{{.*}} = llvm.call_intrinsic "llvm.abs.i32"(%n, %[[FALSE]]) : (i32, i1) -> i32

// CHECK: llvm.func @erff(f32) -> f32
