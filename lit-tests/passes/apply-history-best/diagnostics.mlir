// A function without a record stays as it is, with a remark; a missing database is an error.
// RUN: rm -f %t.json && touch %t.json
// RUN: sched-opt %s -p 'apply-history-best{db="%t.json"}' 2>&1 | filecheck %s
// RUN: not sched-opt %s -p 'apply-history-best{db="%t.missing.json"}' 2>&1 | filecheck %s --check-prefix=MISSING

func.func @double(%A: tensor<8xf32> {te.name = "A"}) -> tensor<8xf32> {
  %B = te.compute "B" spatial(i: 8) ins(%A : tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%i: index):
    %a = te.read %A[%i] : tensor<8xf32>
    %s = arith.addf %a, %a : f32
    te.yield %s : f32
  }
  func.return %B : tensor<8xf32>
}

// CHECK:      remark: apply-history-best: no record for @double (workload key ["{{[0-9a-f]+}}", [8], [8]]) on target llvm in {{.*}}.json; @double stays unscheduled
// CHECK:      builtin.module {
// CHECK-NEXT:   func.func @double
// CHECK-NOT:  transform.named_sequence

// MISSING:      cannot read record file {{.*}}missing.json: No such file or directory
// MISSING-NOT:  Traceback
