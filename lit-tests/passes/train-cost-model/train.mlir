// RUN: sched-opt %s -p 'train-cost-model{db="%S/Inputs/matmul_16.json" model="%t.model.json"}' 2>&1 | filecheck %s
// RUN: filecheck %s --check-prefix=MODEL --input-file=%t.model.json

// The records are of the registered workload ["matmul", 16, 16, 16]; the
// module's own function has no record (its key is a hash of its IR).
func.func @scale(%A: tensor<16xf32> {te.name = "A"}) -> tensor<16xf32> {
  %B = te.compute "B" spatial(i: 16) ins(%A : tensor<16xf32>) -> tensor<16xf32> {
  ^bb0(%i: index):
    %a = te.read %A[%i] : tensor<16xf32>
    %p = arith.mulf %a, %a : f32
    te.yield %p : f32
  }
  func.return %B : tensor<16xf32>
}

// The pass leaves the module as it is and says what it trained on.
// CHECK: remark: train-cost-model: trained on 12 records of 1 workload(s); saved to {{.*}}.model.json
// CHECK: func.func @scale

// MODEL: "learner"
