// RUN: sched-opt %s -p convert-bound-loops-to-gpu --split-input-file --verify-diagnostics | filecheck %s
// RUN: sched-opt %s -p 'convert-bound-loops-to-gpu{max_threads_per_block=128}' --split-input-file --verify-diagnostics | filecheck %s --check-prefix=LIMIT

// More threads than a block may have (32 x 64 = 2048, over 1024; the LIMIT run allows 128).

func.func @too_many_threads(%A: memref<32x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  scf.for %ty = %c0 to %c32 step %c1 {
    scf.for %tx = %c0 to %c64 step %c1 {
      %a = memref.load %A[%ty, %tx] : memref<32x64xf32>
      memref.store %a, %A[%ty, %tx] : memref<32x64xf32>
    } {sched.annotation = #sched<loop_annotation threadIdx.x>}
  } {sched.annotation = #sched<loop_annotation threadIdx.y>}
  func.return
}

// CHECK: convert-bound-loops-to-gpu: the kernel of %ty in @too_many_threads has 2048 threads per block (64 x 32 x 1; at most 1024)
// LIMIT: convert-bound-loops-to-gpu: the kernel of %ty in @too_many_threads has 2048 threads per block (64 x 32 x 1; at most 128)

// -----

// A bound loop must have a constant extent.

func.func @unknown_extent(%A: memref<64xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %tx = %c0 to %n step %c1 {
    %a = memref.load %A[%tx] : memref<64xf32>
    memref.store %a, %A[%tx] : memref<64xf32>
  } {sched.annotation = #sched<loop_annotation threadIdx.x>}
  func.return
}

// CHECK: convert-bound-loops-to-gpu: loop %tx in @unknown_extent is bound to threadIdx.x but does not run from 0 to a constant in steps of 1 (a bound loop needs a constant extent)

// -----

// Work outside every kernel has nowhere to run.

func.func @statement_outside(%A: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %a = memref.load %A[%c0] : memref<64xf32>
  scf.for %tx = %c0 to %c64 step %c1 {
    memref.store %a, %A[%tx] : memref<64xf32>
  } {sched.annotation = #sched<loop_annotation threadIdx.x>}
  func.return
}

// CHECK: convert-bound-loops-to-gpu: memref.load in @statement_outside is outside every loop nest bound to blockIdx/threadIdx (on a GPU, all computation runs in kernels)

// -----

// A loop nest with no bound loop in a function that has some is no kernel.

func.func @unbound_nest(%A: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.for %tx = %c0 to %c64 step %c1 {
    %a = memref.load %A[%tx] : memref<64xf32>
    memref.store %a, %A[%tx] : memref<64xf32>
  } {sched.annotation = #sched<loop_annotation threadIdx.x>}
  scf.for %i = %c0 to %c64 step %c1 {
    %a = memref.load %A[%i] : memref<64xf32>
    memref.store %a, %A[%i] : memref<64xf32>
  }
  func.return
}

// CHECK: convert-bound-loops-to-gpu: the loop nest of %i in @unbound_nest has no loop bound to blockIdx or threadIdx (every loop nest at the top of a GPU function is a kernel)

// -----

// Blocks are the outermost loops.

func.func @block_inside_thread(%A: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %tx = %c0 to %c8 step %c1 {
    scf.for %bx = %c0 to %c8 step %c1 {
      %a = memref.load %A[%bx] : memref<64xf32>
      memref.store %a, %A[%tx] : memref<64xf32>
    } {sched.annotation = #sched<loop_annotation blockIdx.x>}
  } {sched.annotation = #sched<loop_annotation threadIdx.x>}
  func.return
}

// CHECK: convert-bound-loops-to-gpu: loop %bx in @block_inside_thread is bound to blockIdx.x inside a loop that is not bound to blockIdx (blocks are the outermost loops)

// -----

// Too much shared memory: 2 x 8192 floats is 64 KiB.

func.func @too_much_shared(%A: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.for %tx = %c0 to %c64 step %c1 {
    %S = memref.alloca() : memref<8192xf32, 3 : i64>
    %T = memref.alloca() : memref<8192xf32, 3 : i64>
    %a = memref.load %A[%tx] : memref<64xf32>
    memref.store %a, %S[%tx] : memref<8192xf32, 3 : i64>
    memref.store %a, %T[%tx] : memref<8192xf32, 3 : i64>
  } {sched.annotation = #sched<loop_annotation threadIdx.x>}
  func.return
}

// CHECK: convert-bound-loops-to-gpu: the kernel of %tx in @too_much_shared needs 65536 bytes of shared memory (%S, %T; at most 49152)

// -----

// A thread loop shorter than the block, around a barrier: the other threads would never reach it.

func.func @barrier_in_guard(%A: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  scf.for %tx = %c0 to %c64 step %c1 {
    scf.for %t2 = %c0 to %c32 step %c1 {
      "gpu.barrier"() : () -> ()
    } {sched.annotation = #sched<loop_annotation threadIdx.x>}
  } {sched.annotation = #sched<loop_annotation threadIdx.x>}
  func.return
}

// CHECK: convert-bound-loops-to-gpu: loop %t2 is bound to threadIdx.x with extent 32, less than the 64 threads launched, and holds a gpu.barrier (only some threads would reach it; bind the same extent as the other loops)
