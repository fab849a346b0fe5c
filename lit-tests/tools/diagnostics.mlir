// RUN: not sched-opt %s -p no-such-pass 2>&1 | filecheck %s --check-prefix=PASS
// RUN: not sched-opt %s 2>&1 | filecheck %s --check-prefix=PARSE

// PASS: sched-opt: error: Unrecognized passes: ['no-such-pass']

func.func @broken(%A: tensor<4xf32>) {
  %x = arith.addf %A
}

// PARSE: diagnostics.mlir:8:1
// PARSE-NOT: Traceback

