// A module without schedules has nothing to measure; nothing is written.
// RUN: rm -f %t.json
// RUN: sched-opt %s -p 'measure{db="%t.json"}' 2>&1 | filecheck %s
// RUN: not test -e %t.json

func.func @double(%A: tensor<8xf32> {te.name = "A"}) -> tensor<8xf32> {
  %B = te.compute "B" spatial(i: 8) ins(%A : tensor<8xf32>) -> tensor<8xf32> {
  ^bb0(%i: index):
    %a = te.read %A[%i] : tensor<8xf32>
    %s = arith.addf %a, %a : f32
    te.yield %s : f32
  }
  func.return %B : tensor<8xf32>
}

// CHECK: remark: measure: the module has no schedules to measure
// CHECK: func.func @double
