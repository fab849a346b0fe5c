// RUN: sched-opt %s -p convert-openmp-to-gomp | filecheck %s

// What convert-scf-to-openmp makes of a parallel loop inside a serial one:
// each row %t of B is scaled by %s in parallel over its columns.
func.func @scale_rows(%A: memref<3x64xf32>, %B: memref<3x64xf32>, %s: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c64 = arith.constant 64 : index
  scf.for %t = %c0 to %c3 step %c1 {
    "omp.parallel"() <{operandSegmentSizes = array<i32: 0, 0, 0, 0, 0, 0>}> ({
      "omp.wsloop"() <{operandSegmentSizes = array<i32: 0, 0, 0, 0, 0, 0, 0>}> ({
        "omp.loop_nest"(%c0, %c64, %c1) ({
        ^bb0(%j: index):
          "memref.alloca_scope"() ({
            %a = memref.load %A[%t, %j] : memref<3x64xf32>
            %b = arith.mulf %a, %s : f32
            memref.store %b, %B[%t, %j] : memref<3x64xf32>
            "memref.alloca_scope.return"() : () -> ()
          }) : () -> ()
          omp.yield
        }) : (index, index, index) -> ()
      }) : () -> ()
      "omp.terminator"() : () -> ()
    }) : () -> ()
  }
  func.return
}

// The values the region uses (constants excepted) go into pointer-sized slots
// allocated once in the entry block, and GOMP_parallel runs the trampoline.
// CHECK:      func.func @scale_rows(%A: memref<3x64xf32>, %B: memref<3x64xf32>, %s: f32) {
// CHECK-NEXT:   %[[N:.*]] = llvm.mlir.constant(4) : i64
// CHECK-NEXT:   %omp_data = llvm.alloca %[[N]] x !llvm.ptr {alignment = 8 : i64} : (i64) -> !llvm.ptr
// CHECK:        scf.for %t = %c0 to %c3 step %c1 {
// CHECK-NEXT:     %[[AP:.*]] = builtin.unrealized_conversion_cast %A : memref<3x64xf32> to !llvm.ptr
// CHECK-NEXT:     %[[A0:.*]] = llvm.getelementptr %omp_data[0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT:     llvm.store %[[AP]], %[[A0]] {alignment = 8 : i64} : !llvm.ptr, !llvm.ptr
// CHECK-NEXT:     %[[TI:.*]] = builtin.unrealized_conversion_cast %t : index to i64
// CHECK-NEXT:     %[[T1:.*]] = llvm.getelementptr %omp_data[1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT:     llvm.store %[[TI]], %[[T1]] {alignment = 8 : i64} : i64, !llvm.ptr
// CHECK-NEXT:     %[[S2:.*]] = llvm.getelementptr %omp_data[2] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT:     llvm.store %s, %[[S2]] {alignment = 8 : i64} : f32, !llvm.ptr
// CHECK:          llvm.store %{{.*}}, %{{.*}} {alignment = 8 : i64} : !llvm.ptr, !llvm.ptr
// CHECK-NEXT:     %[[THREADS:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT:     %[[FLAGS:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT:     %[[FN:.*]] = llvm.mlir.addressof @scale_rows_omp_parallel_0_trampoline : !llvm.ptr
// CHECK-NEXT:     llvm.call @GOMP_parallel(%[[FN]], %omp_data, %[[THREADS]], %[[FLAGS]]) : (!llvm.ptr, !llvm.ptr, i32, i32) -> ()
// CHECK-NEXT:   }
// CHECK-NEXT:   func.return
// CHECK-NEXT: }

// The outlined region takes the values as arguments; each thread runs its
// share of the 64 iterations; the end of the region is the team's barrier.
// CHECK:      func.func private @scale_rows_omp_parallel_0(%A: memref<3x64xf32>, %t: index, %s: f32, %B: memref<3x64xf32>) {
// CHECK-NEXT:   %c64 = arith.constant 64 : index
// CHECK-NEXT:   %c0 = arith.constant 0 : index
// CHECK-NEXT:   %c1 = arith.constant 1 : index
// CHECK-NEXT:   %[[TID:.*]] = llvm.call @omp_get_thread_num() : () -> i32
// CHECK-NEXT:   %[[TIDX:.*]] = arith.index_cast %[[TID]] : i32 to index
// CHECK-NEXT:   %[[NT:.*]] = llvm.call @omp_get_num_threads() : () -> i32
// CHECK-NEXT:   %[[NTX:.*]] = arith.index_cast %[[NT]] : i32 to index
// CHECK-NEXT:   %[[SPAN:.*]] = arith.subi %c64, %c0 : index
// CHECK-NEXT:   %[[TRIPS:.*]] = arith.ceildivsi %[[SPAN]], %c1 : index
// CHECK-NEXT:   %[[SHARE:.*]] = arith.ceildivsi %[[TRIPS]], %[[NTX]] : index
// CHECK-NEXT:   %[[START:.*]] = arith.muli %[[TIDX]], %[[SHARE]] : index
// CHECK-NEXT:   %[[FIRST:.*]] = arith.minsi %[[START]], %[[TRIPS]] : index
// CHECK-NEXT:   %[[END:.*]] = arith.addi %[[FIRST]], %[[SHARE]] : index
// CHECK-NEXT:   %[[LAST:.*]] = arith.minsi %[[END]], %[[TRIPS]] : index
// CHECK:        scf.for %j = %{{.*}} to %{{.*}} step %c1 {
// CHECK-NEXT:     %a = memref.load %A[%t, %j] : memref<3x64xf32>
// CHECK-NEXT:     %b = arith.mulf %a, %s : f32
// CHECK-NEXT:     memref.store %b, %B[%t, %j] : memref<3x64xf32>
// CHECK-NEXT:   }
// CHECK-NOT:    GOMP_barrier
// CHECK:        func.return
// CHECK-NEXT: }

// The trampoline has the C signature libgomp calls: it loads the values back.
// CHECK:      func.func private @scale_rows_omp_parallel_0_trampoline(%data: !llvm.ptr) {
// CHECK-NEXT:   %[[P0:.*]] = llvm.getelementptr %data[0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT:   %[[V0:.*]] = llvm.load %[[P0]] {alignment = 8 : i64} : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT:   %[[A:.*]] = builtin.unrealized_conversion_cast %[[V0]] : !llvm.ptr to memref<3x64xf32>
// CHECK-NEXT:   %[[P1:.*]] = llvm.getelementptr %data[1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT:   %[[V1:.*]] = llvm.load %[[P1]] {alignment = 8 : i64} : !llvm.ptr -> i64
// CHECK-NEXT:   %[[T:.*]] = builtin.unrealized_conversion_cast %[[V1]] : i64 to index
// CHECK:        func.call @scale_rows_omp_parallel_0(%[[A]], %[[T]], %{{.*}}, %{{.*}}) : (memref<3x64xf32>, index, f32, memref<3x64xf32>) -> ()
// CHECK-NEXT:   func.return
// CHECK-NEXT: }

// CHECK-DAG:  llvm.func @omp_get_thread_num() -> i32
// CHECK-DAG:  llvm.func @omp_get_num_threads() -> i32
// CHECK-DAG:  llvm.func @GOMP_parallel(!llvm.ptr, !llvm.ptr, i32, i32)
