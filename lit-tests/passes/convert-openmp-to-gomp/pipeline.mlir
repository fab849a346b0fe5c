// RUN: sched-opt %s -p parallelize-annotated-loops,convert-to-llvm | filecheck %s
// RUN: sched-opt %s -p parallelize-annotated-loops,convert-to-llvm -t llvm | filecheck %s --check-prefix=LLVM

// A loop the schedule runs in parallel, from the loop-nest emitter's form to
// LLVM IR: the kernel hands its buffers to GOMP_parallel, whose threads each
// run a share of the rows in the outlined function.
func.func @relu(%A: memref<64x16xf32>, %B: memref<64x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c64 step %c1 {
    scf.for %j = %c0 to %c16 step %c1 {
      %a = memref.load %A[%i, %j] : memref<64x16xf32>
      %r = arith.maximumf %a, %zero : f32
      memref.store %r, %B[%i, %j] : memref<64x16xf32>
    }
  } {sched.annotation = #sched<loop_annotation parallel>}
  func.return
}

// CHECK:      llvm.func @relu(%A: !llvm.ptr {llvm.noalias}, %B: !llvm.ptr {llvm.noalias}) {
// CHECK:        %omp_data = llvm.alloca %{{.*}} x !llvm.ptr {alignment = 8 : i64} : (i64) -> !llvm.ptr
// CHECK:        llvm.store %A, %{{.*}} {alignment = 8 : i64} : !llvm.ptr, !llvm.ptr
// CHECK:        llvm.store %B, %{{.*}} {alignment = 8 : i64} : !llvm.ptr, !llvm.ptr
// CHECK:        %[[FN:.*]] = llvm.mlir.addressof @relu_omp_parallel_0_trampoline : !llvm.ptr
// CHECK-NEXT:   llvm.call @GOMP_parallel(%[[FN]], %omp_data, %{{.*}}, %{{.*}}) : (!llvm.ptr, !llvm.ptr, i32, i32) -> ()
// CHECK-NEXT:   llvm.return
// CHECK:      llvm.func @relu_omp_parallel_0(%A_1: !llvm.ptr {llvm.noalias}, %B_1: !llvm.ptr {llvm.noalias}) {
// CHECK:        llvm.call @omp_get_thread_num() : () -> i32
// CHECK:        llvm.call @omp_get_num_threads() : () -> i32
// CHECK:      llvm.func @relu_omp_parallel_0_trampoline(%data: !llvm.ptr {llvm.noalias}) {
// CHECK:        llvm.call @relu_omp_parallel_0(%{{.*}}, %{{.*}}) : (!llvm.ptr, !llvm.ptr) -> ()
// CHECK-NOT:  unrealized_conversion_cast
// CHECK-NOT:  omp.

// LLVM:      define void @"relu"(ptr noalias %".1", ptr noalias %".2")
// LLVM:        call ccc void @"GOMP_parallel"({{.*}} @"relu_omp_parallel_0_trampoline", ptr %{{.*}}, i32 0, i32 0)
// LLVM:      define void @"relu_omp_parallel_0"(ptr noalias %".1", ptr noalias %".2")
// LLVM:        call ccc i32 @"omp_get_thread_num"()
// LLVM:        call ccc i32 @"omp_get_num_threads"()
// LLVM:      define void @"relu_omp_parallel_0_trampoline"(ptr noalias %".1")
// LLVM:        call ccc void @"relu_omp_parallel_0"(ptr %{{.*}}, ptr %{{.*}})
// LLVM:      declare void @"GOMP_parallel"(ptr %".1", ptr %".2", i32 %".3", i32 %".4")
