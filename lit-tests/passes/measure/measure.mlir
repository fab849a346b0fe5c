// measure times each scheduled function, appends a record per schedule, and leaves the module as it is.
// RUN: rm -f %t.db
// RUN: sched-opt %s -p 'measure{db="%t.db" number=1 repeat=2 min_repeat_ms=0}' 2>&1 | filecheck %s
// RUN: sched-opt-records list %t.db | filecheck %s --check-prefix=RECORDS
// RUN: sched-opt %s -p 'measure{db="%t.db" number=1 min_repeat_ms=0}' > /dev/null 2>&1
// RUN: sched-opt-records list %t.db | filecheck %s --check-prefix=APPENDED

func.func @scale(%A: tensor<32x32xf32> {te.name = "A"}) -> tensor<32x32xf32> {
  %B = te.compute "B" spatial(i: 32, j: 32) ins(%A : tensor<32x32xf32>) -> tensor<32x32xf32> {
  ^bb0(%i: index, %j: index):
    %a = te.read %A[%i, %j] : tensor<32x32xf32>
    %c = arith.constant 3.0 : f32
    %s = arith.mulf %a, %c : f32
    te.yield %s : f32
  }
  func.return %B : tensor<32x32xf32>
}

transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %B = sched.get_stage "B" in %root : (!transform.any_op) -> !sched.stage
  %i, %j = sched.get_iters %B : !sched.iter, !sched.iter
  %f = sched.fuse %B, [%i, %j]
  %o, %v = sched.split %B, %f by [8] : !sched.iter, !sched.iter
  sched.annotate %B, %v unroll
  transform.yield
}

// CHECK:      remark: measure: @scale: {{[0-9.]+}} ms (mean of 2 repeats)
// CHECK:      func.func @scale
// CHECK:        te.compute "B"
// CHECK:      transform.named_sequence @__transform_main
// CHECK:        sched.split

// RECORDS:      {{.*}}.db: 1 records, 0 failed
// RECORDS-NEXT: record {{ +}}workload {{ +}}target  result  cost (ms)  steps  time
// RECORDS-NEXT: {{.*}}.db:row 1  ["{{[0-9a-f]+}}", [32, 32], [32, 32]]  llvm    ok {{ +}}{{[0-9.]+}}      3  {{.*}}

// APPENDED: {{.*}}.db: 2 records, 0 failed
