// RUN: not sched-opt %s -p 'train-cost-model{db="%S/Inputs/matmul_16.json" model="%t.model.json" n_lines=0}' 2>&1 | filecheck %s

func.func @scale(%A: tensor<16xf32> {te.name = "A"}) -> tensor<16xf32> {
  %B = te.compute "B" spatial(i: 16) ins(%A : tensor<16xf32>) -> tensor<16xf32> {
  ^bb0(%i: index):
    %a = te.read %A[%i] : tensor<16xf32>
    te.yield %a : f32
  }
  func.return %B : tensor<16xf32>
}

// CHECK: train-cost-model: no record in {{.*}}matmul_16.json belongs to a workload of the module or registry
