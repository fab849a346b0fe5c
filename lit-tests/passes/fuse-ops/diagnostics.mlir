// RUN: not sched-opt %s -p fuse-ops 2>&1 | filecheck %s

// fuse-ops works on network modules only: a lone te function has no graph function.

func.func @relu(%A: tensor<4xf32> {te.name = "A"}) -> tensor<4xf32> {
  %R = te.compute "relu" spatial(i: 4) ins(%A : tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%i: index):
    %a = te.read %A[%i] : tensor<4xf32>
    %z = arith.constant 0.0 : f32
    %m = arith.maximumf %a, %z : f32
    te.yield %m : f32
  }
  func.return %R : tensor<4xf32>
}

// CHECK: a network module has exactly one graph function (marked te.graph), found none
