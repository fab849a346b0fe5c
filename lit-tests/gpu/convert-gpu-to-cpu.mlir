// RUN: sched-opt %s -p convert-gpu-to-cpu --split-input-file | filecheck %s
// RUN: sched-opt %s -p convert-gpu-to-cpu,convert-to-llvm --split-input-file | filecheck %s --check-prefix=LLVM

// One barrier: each thread stores its sum into shared memory, then reads its mirror image's.
// The block loop holds two thread loops; shared memory is one buffer in the default memory
// space; %a (a load) crosses the barrier in a per-thread slot, %i (index arithmetic of the
// thread id) is recomputed, %base (the same for every thread) is computed once per block.

builtin.module attributes {gpu.container_module} {
  func.func @mirror(%A: memref<64xf32>, %C: memref<64xf32>) {
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %c16 = arith.constant 16 : index
    "gpu.launch_func"(%c4, %c1, %c1, %c16, %c1, %c1, %A, %C) <{kernel = @mirror_kernels::@mirror_kernel0, operandSegmentSizes = array<i32: 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, 0>}> : (index, index, index, index, index, index, memref<64xf32>, memref<64xf32>) -> ()
    func.return
  }
  "gpu.module"() <{sym_name = "mirror_kernels"}> ({
    "gpu.func"() <{function_type = (memref<64xf32>, memref<64xf32>) -> (), kernel}> ({
    ^bb0(%A: memref<64xf32>, %C: memref<64xf32>):
      %sh = memref.alloca() {alignment = 64 : i64} : memref<16xf32, 3 : i64>
      %bx = "gpu.block_id"() <{dimension = #gpu<dim x>}> : () -> index
      %tx = "gpu.thread_id"() <{dimension = #gpu<dim x>}> : () -> index
      %c16 = arith.constant 16 : index
      %c15 = arith.constant 15 : index
      %base = arith.muli %bx, %c16 : index
      %i = arith.addi %base, %tx : index
      %a = memref.load %A[%i] : memref<64xf32>
      %twice = arith.addf %a, %a : f32
      memref.store %twice, %sh[%tx] : memref<16xf32, 3 : i64>
      "gpu.barrier"() : () -> ()
      %mirror = arith.subi %c15, %tx : index
      %v = memref.load %sh[%mirror] : memref<16xf32, 3 : i64>
      %w = arith.addf %v, %a : f32
      memref.store %w, %C[%i] : memref<64xf32>
      "gpu.return"() : () -> ()
    }) {sym_name = "mirror_kernel0"} : () -> ()
  }) : () -> ()
}

// CHECK:       builtin.module {
// CHECK-NEXT:    func.func @mirror(%A: memref<64xf32>, %C: memref<64xf32>) {
// CHECK:           %sh = memref.alloca() {alignment = 64 : i64} : memref<16xf32>
// CHECK:           %a_per_thread = memref.alloca() : memref<16xf32>
// CHECK-NEXT:      scf.for %bx = %[[C0:.*]] to %[[C4:.*]] step %[[C1:.*]] {
// CHECK-NEXT:        %[[K16:.*]] = arith.constant 16 : index
// CHECK-NEXT:        %c15 = arith.constant 15 : index
// CHECK-NEXT:        %base = arith.muli %bx, %[[K16]] : index
// CHECK-NEXT:        scf.for %tx = %[[C0]] to %[[C16:.*]] step %[[C1]] {
// CHECK-NEXT:          %i = arith.addi %base, %tx : index
// CHECK-NEXT:          %a = memref.load %A[%i] : memref<64xf32>
// CHECK-NEXT:          memref.store %a, %a_per_thread[%tx] : memref<16xf32>
// CHECK-NEXT:          %twice = arith.addf %a, %a : f32
// CHECK-NEXT:          memref.store %twice, %sh[%tx] : memref<16xf32>
// CHECK-NEXT:        }
// CHECK-NEXT:        scf.for %tx_1 = %[[C0]] to %[[C16]] step %[[C1]] {
// CHECK-NEXT:          %mirror = arith.subi %c15, %tx_1 : index
// CHECK-NEXT:          %v = memref.load %sh[%mirror] : memref<16xf32>
// CHECK-NEXT:          %[[A:.*]] = memref.load %a_per_thread[%tx_1] : memref<16xf32>
// CHECK-NEXT:          %w = arith.addf %v, %[[A]] : f32
// CHECK-NEXT:          %i_1 = arith.addi %base, %tx_1 : index
// CHECK-NEXT:          memref.store %w, %C[%i_1] : memref<64xf32>
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:      func.return
// CHECK-NOT:     gpu.

// After convert-to-llvm, a CPU function: shared memory and the slot on the stack.
// LLVM-LABEL: llvm.func @mirror(%A: !llvm.ptr {llvm.noalias}, %C: !llvm.ptr {llvm.noalias}) {
// LLVM-COUNT-2: llvm.alloca %{{.*}} x f32
// LLVM-NOT:     gpu.
// LLVM:         llvm.return

// -----

// Barriers inside a loop the same for all threads (a tiled reduction through shared memory):
// the loop runs once per block around its own phases; the thread-local accumulator, used before,
// inside and after the loop, gets a leading dimension of 2 x 4 = 8 threads, indexed by the linear
// thread id; the loop-carried %n goes through a per-thread slot.

builtin.module attributes {gpu.container_module} {
  func.func @tiles(%X: memref<8x32xf32>, %Y: memref<8xf32>, %N: memref<8xi32>) {
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c4 = arith.constant 4 : index
    "gpu.launch_func"(%c1, %c1, %c1, %c4, %c2, %c1, %X, %Y, %N) <{kernel = @tiles_kernels::@tiles_kernel0, operandSegmentSizes = array<i32: 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 3, 0>}> : (index, index, index, index, index, index, memref<8x32xf32>, memref<8xf32>, memref<8xi32>) -> ()
    func.return
  }
  "gpu.module"() <{sym_name = "tiles_kernels"}> ({
    "gpu.func"() <{function_type = (memref<8x32xf32>, memref<8xf32>, memref<8xi32>) -> (), kernel}> ({
    ^bb0(%X: memref<8x32xf32>, %Y: memref<8xf32>, %N: memref<8xi32>):
      %tile = memref.alloca() : memref<8x4xf32, 3 : i64>
      %tx = "gpu.thread_id"() <{dimension = #gpu<dim x>}> : () -> index
      %ty = "gpu.thread_id"() <{dimension = #gpu<dim y>}> : () -> index
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c4 = arith.constant 4 : index
      %c8 = arith.constant 8 : index
      %zero = arith.constant 0.0 : f32
      %one = arith.constant 1 : i32
      %row4 = arith.muli %ty, %c4 : index
      %row = arith.addi %row4, %tx : index
      %acc = memref.alloca() : memref<1xf32>
      memref.store %zero, %acc[%c0] : memref<1xf32>
      %count = arith.constant 0 : i32
      %n = scf.for %k = %c0 to %c8 step %c1 iter_args(%m = %count) -> (i32) {
        %k4 = arith.muli %k, %c4 : index
        %col = arith.addi %k4, %tx : index
        "gpu.barrier"() : () -> ()
        scf.for %r = %c0 to %c8 step %c1 {
          %x = memref.load %X[%r, %col] : memref<8x32xf32>
          memref.store %x, %tile[%r, %tx] : memref<8x4xf32, 3 : i64>
        }
        "gpu.barrier"() : () -> ()
        scf.for %j = %c0 to %c4 step %c1 {
          %t = memref.load %tile[%row, %j] : memref<8x4xf32, 3 : i64>
          %s = memref.load %acc[%c0] : memref<1xf32>
          %u = arith.addf %s, %t : f32
          memref.store %u, %acc[%c0] : memref<1xf32>
        }
        %m1 = arith.addi %m, %one : i32
        scf.yield %m1 : i32
      }
      %total = memref.load %acc[%c0] : memref<1xf32>
      memref.store %total, %Y[%row] : memref<8xf32>
      memref.store %n, %N[%row] : memref<8xi32>
      "gpu.return"() : () -> ()
    }) {sym_name = "tiles_kernel0"} : () -> ()
  }) : () -> ()
}

// CHECK:       func.func @tiles(
// CHECK:         %tile = memref.alloca() : memref<8x4xf32>
// CHECK-NEXT:    %acc = memref.alloca() : memref<8x1xf32>
// CHECK:         %n_per_thread = memref.alloca() : memref<8xi32>
// CHECK:         scf.for %ty = %[[C0:.*]] to %[[C2:.*]] step %[[C1:.*]] {
// CHECK-NEXT:      scf.for %tx = %[[C0]] to %[[C4:.*]] step %[[C1]] {
// CHECK-NEXT:        %[[SCALED:.*]] = arith.muli %ty, %[[C4]] : index
// CHECK-NEXT:        %thread = arith.addi %[[SCALED]], %tx : index
// CHECK-NEXT:        memref.store %zero, %acc[%thread, %{{.*}}] : memref<8x1xf32>
// CHECK-NEXT:        memref.store %count, %n_per_thread[%thread] : memref<8xi32>
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    scf.for %k = %{{.*}} to %c8 step %{{.*}} {
// CHECK-NEXT:      %k4 = arith.muli %k, %{{.*}} : index
// CHECK-NEXT:      scf.for %ty_1 = %[[C0]] to %[[C2]] step %[[C1]] {
// CHECK-NEXT:        scf.for %tx_1 = %[[C0]] to %[[C4]] step %[[C1]] {
// CHECK-NEXT:          %col = arith.addi %k4, %tx_1 : index
// CHECK-NEXT:          scf.for %r = %{{.*}} to %c8 step %{{.*}} {
// CHECK-NEXT:            %x = memref.load %X[%r, %col] : memref<8x32xf32>
// CHECK-NEXT:            memref.store %x, %tile[%r, %tx_1] : memref<8x4xf32>
// CHECK-NEXT:          }
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:      scf.for %ty_2 = %[[C0]] to %[[C2]] step %[[C1]] {
// CHECK-NEXT:        scf.for %tx_2 = %[[C0]] to %[[C4]] step %[[C1]] {
// CHECK:               %thread_1 = arith.addi %{{.*}}, %tx_2 : index
// CHECK:               scf.for %j =
// CHECK-NEXT:            %t = memref.load %tile[%row, %j] : memref<8x4xf32>
// CHECK-NEXT:            %s = memref.load %acc[%thread_1, %{{.*}}] : memref<8x1xf32>
// CHECK-NEXT:            %u = arith.addf %s, %t : f32
// CHECK-NEXT:            memref.store %u, %acc[%thread_1, %{{.*}}] : memref<8x1xf32>
// CHECK-NEXT:          }
// CHECK-NEXT:          %[[M:.*]] = memref.load %n_per_thread[%thread_1] : memref<8xi32>
// CHECK-NEXT:          %m1 = arith.addi %[[M]], %one : i32
// CHECK-NEXT:          memref.store %m1, %n_per_thread[%thread_1] : memref<8xi32>
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    scf.for %ty_3 = %[[C0]] to %[[C2]] step %[[C1]] {
// CHECK-NEXT:      scf.for %tx_3 = %[[C0]] to %[[C4]] step %[[C1]] {
// CHECK:             %total = memref.load %acc[%thread_2, %{{.*}}] : memref<8x1xf32>
// CHECK:             memref.store %total, %Y[%{{.*}}] : memref<8xf32>
// CHECK-NEXT:        %[[N:.*]] = memref.load %n_per_thread[%thread_2] : memref<8xi32>
// CHECK-NEXT:        memref.store %[[N]], %N[%{{.*}}] : memref<8xi32>

// LLVM-LABEL: llvm.func @tiles(
// LLVM-NOT:     gpu.
// LLVM:         llvm.return
