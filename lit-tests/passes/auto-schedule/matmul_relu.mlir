// RUN: rm -f %t.json
// RUN: sched-opt %s -p 'auto-schedule{trials=4 per_round=4 policy="sketch.random" db="%t.json"}' 2>%t.log | filecheck %s
// RUN: filecheck %s --check-prefix=PROGRESS < %t.log
// RUN: sched-opt-records list %t.json | filecheck %s --check-prefix=RECORDS
// RUN: sched-opt %s -p 'auto-schedule{trials=4 per_round=4 policy="sketch.random" db="%t.json"},lower-to-llvm' -t llvm | filecheck %s --check-prefix=LLVM

func.func @matmul_relu(%A: tensor<32x16xf32> {te.name = "A"}, %B: tensor<16x24xf32> {te.name = "B"}) -> tensor<32x24xf32> {
  %C = te.compute "C" spatial(i: 32, j: 24) reduce<sum>(k: 16) ins(%A, %B : tensor<32x16xf32>, tensor<16x24xf32>) -> tensor<32x24xf32> {
  ^bb0(%i: index, %j: index, %k: index):
    %a = te.read %A[%i, %k] : tensor<32x16xf32>
    %b = te.read %B[%k, %j] : tensor<16x24xf32>
    %p = arith.mulf %a, %b : f32
    te.yield %p : f32
  }
  %D = te.compute "D" spatial(i: 32, j: 24) ins(%C : tensor<32x24xf32>) -> tensor<32x24xf32> {
  ^bb0(%i: index, %j: index):
    %c = te.read %C[%i, %j] : tensor<32x24xf32>
    %z = arith.constant 0.0 : f32
    %m = arith.maximumf %c, %z : f32
    te.yield %m : f32
  }
  func.return %D : tensor<32x24xf32>
}

// The function stays; its best schedule sits beside it.
// CHECK:      func.func @matmul_relu(
// CHECK:      transform.named_sequence @__schedule_matmul_relu(%root: !transform.any_op {transform.readonly}) attributes {sched.target = @matmul_relu} {
// CHECK:        sched.get_stage "C"
// CHECK:        sched.split
// CHECK:        transform.yield

// PROGRESS: remark: auto-schedule: tuning @matmul_relu (4 trials, sketch.random)
// PROGRESS: round   1 | trials     4/4 | best

// RECORDS: 4

// A second run resumes from the records and the schedule lowers to LLVM IR.
// LLVM: define void @"matmul_relu"(ptr
