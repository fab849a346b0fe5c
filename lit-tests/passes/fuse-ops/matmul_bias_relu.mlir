// RUN: sched-opt %s --split-input-file -p fuse-ops | filecheck %s

// A dense layer: matmul (out_elemwise_fusable) + bias add (broadcast) + relu
// (elemwise) become one operator function; the intermediates become stages.

func.func @matmul(%A: tensor<8x4xf32> {te.name = "A"}, %B: tensor<4x6xf32> {te.name = "B"}) -> tensor<8x6xf32> attributes {te.op_pattern = "out_elemwise_fusable"} {
  %C = te.compute "C" spatial(i: 8, j: 6) reduce<sum>(k: 4) ins(%A, %B : tensor<8x4xf32>, tensor<4x6xf32>) -> tensor<8x6xf32> attributes {layout_free_placeholders = ["B"]} {
  ^bb0(%i: index, %j: index, %k: index):
    %a = te.read %A[%i, %k] : tensor<8x4xf32>
    %b = te.read %B[%k, %j] : tensor<4x6xf32>
    %p = arith.mulf %a, %b : f32
    te.yield %p : f32
  }
  func.return %C : tensor<8x6xf32>
}
func.func @bias_add(%A: tensor<8x6xf32> {te.name = "A"}, %bias: tensor<6xf32> {te.name = "bias"}) -> tensor<8x6xf32> attributes {te.op_pattern = "broadcast"} {
  %C = te.compute "C" spatial(i: 8, j: 6) ins(%A, %bias : tensor<8x6xf32>, tensor<6xf32>) -> tensor<8x6xf32> {
  ^bb0(%i: index, %j: index):
    %a = te.read %A[%i, %j] : tensor<8x6xf32>
    %b = te.read %bias[%j] : tensor<6xf32>
    %s = arith.addf %a, %b : f32
    te.yield %s : f32
  }
  func.return %C : tensor<8x6xf32>
}
func.func @relu(%A: tensor<8x6xf32> {te.name = "A"}) -> tensor<8x6xf32> attributes {te.op_pattern = "elemwise"} {
  %R = te.compute "relu" spatial(i: 8, j: 6) ins(%A : tensor<8x6xf32>) -> tensor<8x6xf32> {
  ^bb0(%i: index, %j: index):
    %a = te.read %A[%i, %j] : tensor<8x6xf32>
    %z = arith.constant 0.0 : f32
    %m = arith.maximumf %a, %z : f32
    te.yield %m : f32
  }
  func.return %R : tensor<8x6xf32>
}
func.func @main(%x: tensor<8x4xf32> {te.name = "x"}, %w: tensor<4x6xf32> {te.name = "w", te.param}, %b: tensor<6xf32> {te.name = "b", te.param}) -> tensor<8x6xf32> attributes {te.graph} {
  %0 = func.call @matmul(%x, %w) : (tensor<8x4xf32>, tensor<4x6xf32>) -> tensor<8x6xf32>
  %1 = func.call @bias_add(%0, %b) : (tensor<8x6xf32>, tensor<6xf32>) -> tensor<8x6xf32>
  %2 = func.call @relu(%1) : (tensor<8x6xf32>) -> tensor<8x6xf32>
  func.return %2 : tensor<8x6xf32>
}

// The fused function reads the graph values the group reads from outside; the
// second stage named "C" becomes "C_1"; the pattern is the anchor's (matmul's).
// CHECK-NOT:  func.func @matmul
// CHECK-NOT:  func.func @bias_add
// CHECK-NOT:  func.func @relu
// CHECK:      func.func @fused_matmul_bias_add_relu(%A: tensor<8x4xf32> {te.name = "A"}, %B: tensor<4x6xf32> {te.name = "B"}, %bias: tensor<6xf32> {te.name = "bias"}) -> tensor<8x6xf32> attributes {te.op_pattern = "out_elemwise_fusable"} {
// CHECK-NEXT:   %C = te.compute "C" spatial(i: 8, j: 6) reduce<sum>(k: 4) ins(%A, %B : tensor<8x4xf32>, tensor<4x6xf32>) -> tensor<8x6xf32> attributes {layout_free_placeholders = ["B"]} {
// CHECK:        %C_1 = te.compute "C_1" spatial(i: 8, j: 6) ins(%C, %bias : tensor<8x6xf32>, tensor<6xf32>) -> tensor<8x6xf32> {
// CHECK:          te.read %C[%{{.*}}, %{{.*}}] : tensor<8x6xf32>
// CHECK:        %relu = te.compute "relu" spatial(i: 8, j: 6) ins(%C_1 : tensor<8x6xf32>) -> tensor<8x6xf32> {
// CHECK:          te.read %C_1[%{{.*}}, %{{.*}}] : tensor<8x6xf32>
// CHECK:        func.return %relu : tensor<8x6xf32>
// CHECK:      func.func @main(%x: tensor<8x4xf32> {te.name = "x"}, %w: tensor<4x6xf32> {te.name = "w", te.param}, %b: tensor<6xf32> {te.name = "b", te.param}) -> tensor<8x6xf32> attributes {te.graph} {
// CHECK-NEXT:   %0 = func.call @fused_matmul_bias_add_relu(%x, %w, %b) : (tensor<8x4xf32>, tensor<4x6xf32>, tensor<6xf32>) -> tensor<8x6xf32>
// CHECK-NEXT:   func.return %0 : tensor<8x6xf32>
// CHECK-NEXT: }

// -----

// The matmul's result is also a network output: it has two uses, so the relu
// stays a call of its own and nothing changes.

func.func @matmul(%A: tensor<8x4xf32> {te.name = "A"}, %B: tensor<4x6xf32> {te.name = "B"}) -> tensor<8x6xf32> attributes {te.op_pattern = "out_elemwise_fusable"} {
  %C = te.compute "C" spatial(i: 8, j: 6) reduce<sum>(k: 4) ins(%A, %B : tensor<8x4xf32>, tensor<4x6xf32>) -> tensor<8x6xf32> {
  ^bb0(%i: index, %j: index, %k: index):
    %a = te.read %A[%i, %k] : tensor<8x4xf32>
    %b = te.read %B[%k, %j] : tensor<4x6xf32>
    %p = arith.mulf %a, %b : f32
    te.yield %p : f32
  }
  func.return %C : tensor<8x6xf32>
}
func.func @relu(%A: tensor<8x6xf32> {te.name = "A"}) -> tensor<8x6xf32> attributes {te.op_pattern = "elemwise"} {
  %R = te.compute "relu" spatial(i: 8, j: 6) ins(%A : tensor<8x6xf32>) -> tensor<8x6xf32> {
  ^bb0(%i: index, %j: index):
    %a = te.read %A[%i, %j] : tensor<8x6xf32>
    %z = arith.constant 0.0 : f32
    %m = arith.maximumf %a, %z : f32
    te.yield %m : f32
  }
  func.return %R : tensor<8x6xf32>
}
func.func @main(%x: tensor<8x4xf32> {te.name = "x"}, %w: tensor<4x6xf32> {te.name = "w", te.param}) -> (tensor<8x6xf32>, tensor<8x6xf32>) attributes {te.graph} {
  %0 = func.call @matmul(%x, %w) : (tensor<8x4xf32>, tensor<4x6xf32>) -> tensor<8x6xf32>
  %1 = func.call @relu(%0) : (tensor<8x6xf32>) -> tensor<8x6xf32>
  func.return %0, %1 : tensor<8x6xf32>, tensor<8x6xf32>
}

// CHECK:      func.func @matmul(
// CHECK:      func.func @relu(
// CHECK:      func.func @main(
// CHECK-NEXT:   %0 = func.call @matmul(%x, %w)
// CHECK-NEXT:   %1 = func.call @relu(%0)
// CHECK-NEXT:   func.return %0, %1
