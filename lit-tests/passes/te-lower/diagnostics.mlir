// RUN: not sched-opt %s -p te-lower 2>&1 | filecheck %s

func.func @returns_placeholder(%A: tensor<4xf32> {te.name = "A"}) -> (tensor<4xf32>, tensor<4xf32>) {
  %B = te.compute "B" spatial(i: 4) ins(%A : tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%i: index):
    %a = te.read %A[%i] : tensor<4xf32>
    te.yield %a : f32
  }
  func.return %A, %B : tensor<4xf32>, tensor<4xf32>
}

// CHECK: @returns_placeholder: output A is not computed by a te.compute
