// RUN: sched-opt %s -p convert-func-to-llvm --split-input-file --verify-diagnostics | filecheck %s

func.func @dynamic(%A: memref<4xf32>, %B: memref<?x4xf32>) {
  func.return
}

// CHECK: convert-func-to-llvm: argument 1 (%B) of @dynamic has type memref<?x4xf32>, which has a dynamic shape

// -----

func.func @strided(%A: memref<4x4xf32, strided<[8, 1]>> {te.name = "A"}) {
  func.return
}

// CHECK: convert-func-to-llvm: argument 0 (A) of @strided has type memref<4x4xf32, strided<[8, 1]>>, which has a non-identity layout

// -----

func.func @two_results(%x: f32) -> (f32, f32) {
  func.return %x, %x : f32, f32
}

// CHECK: convert-func-to-llvm: @two_results returns 2 values; at most one is supported
