// RUN: sched-opt %s --verify-diagnostics --split-input-file | filecheck %s

func.func @wrong_index_count(%A: tensor<4x4xf32> {te.name = "A"}) -> tensor<4xf32> {
  %B = te.compute "B" spatial(i: 4) ins(%A : tensor<4x4xf32>) -> tensor<4xf32> {
  ^bb0(%i: index):
    %a = te.read %A[%i] : tensor<4x4xf32>
    te.yield %a : f32
  }
  func.return %B : tensor<4xf32>
}

// CHECK: te.read of A: 1 indices for a tensor of rank 2

// -----

func.func @read_non_input(%A: tensor<4xf32> {te.name = "A"}, %X: tensor<4xf32> {te.name = "X"}) -> tensor<4xf32> {
  %B = te.compute "B" spatial(i: 4) ins(%A : tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%i: index):
    %x = te.read %X[%i] : tensor<4xf32>
    te.yield %x : f32
  }
  func.return %B : tensor<4xf32>
}

// CHECK: te.read of X: X is not an input of te.compute "B" (list it in ins)

// -----

func.func @yield_type(%A: tensor<4xf32> {te.name = "A"}) -> tensor<4xf32> {
  %B = te.compute "B" spatial(i: 4) ins(%A : tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%i: index):
    %a = te.read %A[%i] : tensor<4xf32>
    %d = arith.extf %a : f32 to f64
    te.yield %d : f64
  }
  func.return %B : tensor<4xf32>
}

// CHECK: te.compute "B": te.yield type f64 does not match the element type f32 of the result

// -----

func.func @reduce_without_reduction(%A: tensor<4x4xf32> {te.name = "A"}) -> tensor<4xf32> {
  %B = "te.compute"(%A) <{name = "B", iter_names = ["i", "k"], reduce_extents = [#builtin.int<4>]}> ({
  ^bb0(%i: index, %k: index):
    %a = te.read %A[%i, %k] : tensor<4x4xf32>
    te.yield %a : f32
  }) : (tensor<4x4xf32>) -> tensor<4xf32>
  func.return %B : tensor<4xf32>
}

// CHECK: te.compute "B": reduce axes ['k'] are used outside a reduction (give a reduction kind: sum, max, min or prod)

// -----

func.func @capture(%A: tensor<4xf32> {te.name = "A"}) -> tensor<4xf32> {
  %two = arith.constant 2.0 : f32
  %B = te.compute "B" spatial(i: 4) ins(%A : tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%i: index):
    %a = te.read %A[%i] : tensor<4xf32>
    %m = arith.mulf %a, %two : f32
    te.yield %m : f32
  }
  func.return %B : tensor<4xf32>
}

// CHECK: te.compute "B": arith.mulf uses %two, defined outside the compute; the body may only read inputs through te.read
