// The first module holds a schedule: `measure` records it (with its function's
// workload key) in the database. apply-history-best then gives the second module,
// the same function unscheduled, that schedule; the first keeps its own.
// RUN: rm -f %t.json %t.db
// RUN: sched-opt %s --split-input-file -p 'measure{db="%t.json" number=1 min_repeat_ms=0}' > /dev/null 2>&1
// RUN: sched-opt %s --split-input-file -p 'apply-history-best{db="%t.json"}' 2>&1 | filecheck %s
// RUN: sched-opt-records convert %t.json %t.db 2> /dev/null
// RUN: sched-opt %s --split-input-file -p 'apply-history-best{db="%t.db"}' 2>&1 | filecheck %s
// RUN: sched-opt %s --split-input-file -p 'apply-history-best{db="%t.db"},apply-schedule' | filecheck %s --check-prefix=LOWERED

func.func @matmul(%A: tensor<16x8xf32> {te.name = "A"}, %B: tensor<8x12xf32> {te.name = "B"}) -> tensor<16x12xf32> {
  %C = te.compute "C" spatial(i: 16, j: 12) reduce<sum>(k: 8) ins(%A, %B : tensor<16x8xf32>, tensor<8x12xf32>) -> tensor<16x12xf32> {
  ^bb0(%i: index, %j: index, %k: index):
    %a = te.read %A[%i, %k] : tensor<16x8xf32>
    %b = te.read %B[%k, %j] : tensor<8x12xf32>
    %p = arith.mulf %a, %b : f32
    te.yield %p : f32
  }
  func.return %C : tensor<16x12xf32>
}

transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %i, %j, %k = sched.get_iters %C : !sched.iter, !sched.iter, !sched.iter
  %io, %ii = sched.split %C, %i by [4] : !sched.iter, !sched.iter
  sched.reorder %C, [%io, %j, %k, %ii]
  transform.yield
}

// CHECK:      remark: apply-history-best: @matmul already has a schedule; it is kept
// CHECK:      transform.named_sequence @__transform_main
// CHECK-NOT:  @__schedule_matmul

// -----

func.func @matmul(%A: tensor<16x8xf32> {te.name = "A"}, %B: tensor<8x12xf32> {te.name = "B"}) -> tensor<16x12xf32> {
  %C = te.compute "C" spatial(i: 16, j: 12) reduce<sum>(k: 8) ins(%A, %B : tensor<16x8xf32>, tensor<8x12xf32>) -> tensor<16x12xf32> {
  ^bb0(%i: index, %j: index, %k: index):
    %a = te.read %A[%i, %k] : tensor<16x8xf32>
    %b = te.read %B[%k, %j] : tensor<8x12xf32>
    %p = arith.mulf %a, %b : f32
    te.yield %p : f32
  }
  func.return %C : tensor<16x12xf32>
}

// CHECK:      builtin.module attributes {transform.with_named_sequence} {
// CHECK:        func.func @matmul
// CHECK:        transform.named_sequence @__schedule_matmul(%root: !transform.any_op {transform.readonly}) attributes {sched.target = @matmul} {
// CHECK-NEXT:     %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
// CHECK-NEXT:     %C_i, %C_j, %C_k = sched.get_iters %C : !sched.iter, !sched.iter, !sched.iter
// CHECK-NEXT:     %C_i.0, %C_i.1 = sched.split %C, %C_i by [4] : !sched.iter, !sched.iter
// CHECK-NEXT:     sched.reorder %C, [%C_i.0, %C_j, %C_k, %C_i.1]
// CHECK-NEXT:     transform.yield
// CHECK-NEXT:   }

// LOWERED:      {{^// -{5}$}}
// LOWERED-NOT:  transform.
// LOWERED:      func.func @matmul(%A: memref<16x8xf32> {te.name = "A"}, %B: memref<8x12xf32> {te.name = "B"}, %C: memref<16x12xf32> {te.name = "C"}) {
// LOWERED:        scf.for %{{.*}} = %{{.*}} to %[[C4:.*]] step
// LOWERED-NOT:  transform.
