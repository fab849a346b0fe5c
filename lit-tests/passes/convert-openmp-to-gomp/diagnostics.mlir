// RUN: sched-opt %s -p convert-openmp-to-gomp --split-input-file --verify-diagnostics | filecheck %s

func.func @dynamic(%A: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  "omp.parallel"() <{operandSegmentSizes = array<i32: 0, 0, 0, 0, 0, 0>}> ({
    "omp.wsloop"() <{schedule_kind = #omp<schedulekind dynamic>, operandSegmentSizes = array<i32: 0, 0, 0, 0, 0, 0, 0>}> ({
      "omp.loop_nest"(%c0, %c8, %c1) ({
      ^bb0(%i: index):
        memref.store %zero, %A[%i] : memref<8xf32>
        omp.yield
      }) : (index, index, index) -> ()
    }) : () -> ()
    "omp.terminator"() : () -> ()
  }) : () -> ()
  func.return
}

// CHECK: convert-openmp-to-gomp: omp.wsloop in @dynamic: the schedule(dynamic) clause is not supported

// -----

func.func @conditional(%A: memref<8xf32>, %go: i1) {
  %zero = arith.constant 0.0 : f32
  "omp.parallel"(%go) <{operandSegmentSizes = array<i32: 0, 0, 1, 0, 0, 0>}> ({
    "omp.terminator"() : () -> ()
  }) : (i1) -> ()
  func.return
}

// CHECK: convert-openmp-to-gomp: omp.parallel in @conditional: the if clause is not supported
