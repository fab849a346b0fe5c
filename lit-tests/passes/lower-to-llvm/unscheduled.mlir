// RUN: sched-opt %s -p lower-to-llvm | filecheck %s
// RUN: sched-opt %s -p te-lower,lower-to-llvm | filecheck %s

// A te function without a schedule lowers as te-lower emits it: scalar loops
// on one thread.
func.func @add_one(%A: tensor<4x8xf32> {te.name = "A"}) -> tensor<4x8xf32> {
  %B = te.compute "B" spatial(i: 4, j: 8) ins(%A : tensor<4x8xf32>) -> tensor<4x8xf32> {
  ^bb0(%i: index, %j: index):
    %a = te.read %A[%i, %j] : tensor<4x8xf32>
    %one = arith.constant 1.0 : f32
    %s = arith.addf %a, %one : f32
    te.yield %s : f32
  }
  func.return %B : tensor<4x8xf32>
}

// CHECK:       builtin.module {
// CHECK-NEXT:    llvm.func @add_one(%A: !llvm.ptr {te.name = "A", llvm.noalias}, %B: !llvm.ptr {te.name = "B", llvm.noalias}) {
// CHECK-NOT:     vector
// CHECK-NOT:     GOMP
// CHECK:         llvm.fadd {{.*}} {fastmathFlags = #llvm.fastmath<contract>} : f32
// CHECK-NOT:     vector
// CHECK-NOT:     GOMP
// CHECK:         llvm.return
