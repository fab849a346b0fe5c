// RUN: sched-opt %s | filecheck %s
// RUN: sched-opt %s | sched-opt | filecheck %s
// RUN: sched-opt %s --print-op-generic | sched-opt | filecheck %s

func.func @conv1d_relu(%A: tensor<20xf32> {te.name = "A"}, %W: tensor<3xf32> {te.name = "W"}) -> (tensor<9xf32>, tensor<1xf32>) {
  %B = te.compute "B" spatial(i: 9) reduce<sum>(r: 3) ins(%A, %W : tensor<20xf32>, tensor<3xf32>) -> tensor<9xf32> {
  ^bb0(%i: index, %r: index):
    %c2 = arith.constant 2 : index
    %s = arith.muli %i, %c2 : index
    %x = arith.addi %s, %r : index
    %a = te.read %A[%x] : tensor<20xf32>
    %w = te.read %W[%r] : tensor<3xf32>
    %p = arith.mulf %a, %w : f32
    te.yield %p : f32
  }
  %R = te.compute "relu" spatial(i: 9) ins(%B : tensor<9xf32>) -> tensor<9xf32> attributes {tag = "elemwise"} {
  ^bb0(%i: index):
    %b = te.read %B[%i] : tensor<9xf32>
    %z = arith.constant 0.0 : f32
    %m = arith.maximumf %b, %z : f32
    te.yield %m : f32
  }
  %M = te.compute "M" spatial(one: 1) reduce<max>(i: 9) ins(%R : tensor<9xf32>) -> tensor<1xf32> {
  ^bb0(%o: index, %i: index):
    %v = te.read %R[%i] : tensor<9xf32>
    te.yield %v : f32
  }
  func.return %R, %M : tensor<9xf32>, tensor<1xf32>
}

// CHECK:      %B = te.compute "B" spatial(i: 9) reduce<sum>(r: 3) ins(%A, %W : tensor<20xf32>, tensor<3xf32>) -> tensor<9xf32> {
// CHECK-NEXT: ^bb0(%{{.*}}: index, %{{.*}}: index):
// CHECK:        te.read %A[%{{.*}}] : tensor<20xf32>
// CHECK:        te.yield %{{.*}} : f32
// CHECK:      te.compute "relu" spatial(i: 9) ins(%B : tensor<9xf32>) -> tensor<9xf32> attributes {tag = "elemwise"} {
// CHECK:      te.compute "M" spatial(one: 1) reduce<max>(i: 9) ins(%{{.*}} : tensor<9xf32>) -> tensor<1xf32> {
