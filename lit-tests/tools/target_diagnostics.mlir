// RUN: not sched-opt %s -p te-lower -t llvm 2>&1 | filecheck %s
// RUN: not sched-opt %s -p 'apply-history-best{db=records.json}' 2>&1 | filecheck %s --check-prefix=OPTION

// The llvm target translates only the llvm dialect: a clear error, no traceback.
// CHECK: sched-opt: error: cannot translate to the target: {{.*}}(lower with lower-to-llvm first)
// CHECK-NOT: Traceback

// A path in a pass option needs quotes.
// OPTION: sched-opt: error: Error parsing pass pipeline specification
// OPTION-NOT: Traceback

func.func @double(%A: tensor<8xf32> {te.name = "A"}) -> tensor<8xf32> {
  %B = te.compute "B" spatial(i: 8) ins(%A : tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%i: index):
    %a = te.read %A[%i] : tensor<8xf32>
    %b = arith.addf %a, %a : f32
    te.yield %b : f32
  }
  func.return %B : tensor<8xf32>
}
