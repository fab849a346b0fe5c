// RUN: sched-opt %s -p convert-func-to-llvm | filecheck %s

// Memrefs become noalias bare pointers, index becomes i64; argument attributes stay.
func.func @kernel(%A: memref<8x4xf32> {te.name = "A"}, %n: index, %x: f32) -> f32 {
  %y = func.call @helper(%x, %n) : (f32, index) -> f32
  func.return %y : f32
}

func.func private @helper(f32, index) -> f32

func.func @nothing() {
  func.return
}

// CHECK:      llvm.func @kernel(%A: !llvm.ptr {te.name = "A", llvm.noalias}, %n: i64, %x: f32) -> f32 {
// CHECK-NEXT:   %y = llvm.call @helper(%x, %n) : (f32, i64) -> f32
// CHECK-NEXT:   llvm.return %y : f32
// CHECK-NEXT: }
// CHECK-NEXT: llvm.func @helper(f32, i64) -> f32
// CHECK-NEXT: llvm.func @nothing() {
// CHECK-NEXT:   llvm.return
// CHECK-NEXT: }
// CHECK-NOT:  func.
