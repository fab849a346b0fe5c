// RUN: sched-opt %s -p convert-openmp-to-gomp | filecheck %s

// Two work-sharing loops in one region on %n threads: the first waits for the
// whole team before the second reads what it wrote; the second needs no
// barrier, the end of the region joins the team. A nowait loop never waits.
func.func @two_loops(%A: memref<32xf32>, %B: memref<32xf32>, %C: memref<32xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %two = arith.constant 2.0 : f32
  "omp.parallel"(%n) <{operandSegmentSizes = array<i32: 0, 0, 0, 1, 0, 0>}> ({
    "omp.wsloop"() <{operandSegmentSizes = array<i32: 0, 0, 0, 0, 0, 0, 0>}> ({
      "omp.loop_nest"(%c0, %c32, %c1) ({
      ^bb0(%i: index):
        %a = memref.load %A[%i] : memref<32xf32>
        %b = arith.mulf %a, %two : f32
        memref.store %b, %B[%i] : memref<32xf32>
        omp.yield
      }) : (index, index, index) -> ()
    }) : () -> ()
    "omp.wsloop"() <{nowait, operandSegmentSizes = array<i32: 0, 0, 0, 0, 0, 0, 0>}> ({
      "omp.loop_nest"(%c0, %c32, %c1) ({
      ^bb0(%i: index):
        memref.store %two, %C[%i] : memref<32xf32>
        omp.yield
      }) : (index, index, index) -> ()
    }) : () -> ()
    "omp.wsloop"() <{operandSegmentSizes = array<i32: 0, 0, 0, 0, 0, 0, 0>}> ({
      "omp.loop_nest"(%c0, %c32, %c1) ({
      ^bb0(%i: index):
        %j = arith.subi %c32, %i : index
        %k = arith.subi %j, %c1 : index
        %b = memref.load %B[%k] : memref<32xf32>
        memref.store %b, %A[%i] : memref<32xf32>
        omp.yield
      }) : (index, index, index) -> ()
    }) : () -> ()
    "omp.terminator"() : () -> ()
  }) : (index) -> ()
  func.return
}

// CHECK:      func.func @two_loops(
// CHECK:        %[[THREADS:.*]] = arith.index_cast %n : index to i32
// CHECK:        llvm.call @GOMP_parallel(%{{.*}}, %omp_data, %[[THREADS]], %{{.*}}) : (!llvm.ptr, !llvm.ptr, i32, i32) -> ()

// CHECK:      func.func private @two_loops_omp_parallel_0(
// CHECK:        scf.for %i = %{{.*}} to %{{.*}} step %c1 {
// CHECK:          memref.store %b, %B[%i] : memref<32xf32>
// CHECK-NEXT:   }
// CHECK-NEXT:   llvm.call @GOMP_barrier() : () -> ()
// CHECK:        scf.for %i_1 = %{{.*}} to %{{.*}} step %c1 {
// CHECK-NEXT:     memref.store %two, %C[%i_1] : memref<32xf32>
// CHECK-NEXT:   }
// CHECK-NOT:    GOMP_barrier
// CHECK:        scf.for %i_2 = %{{.*}} to %{{.*}} step %c1 {
// CHECK:          memref.store %b_1, %A[%i_2] : memref<32xf32>
// CHECK-NEXT:   }
// CHECK-NEXT:   func.return
