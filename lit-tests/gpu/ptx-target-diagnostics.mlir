// RUN: not sched-opt %s -t ptx 2>&1 | filecheck %s
// RUN: not sched-opt %s -p convert-bound-loops-to-gpu -t ptx 2>&1 | filecheck %s --check-prefix=UNCONVERTED
// RUN: not sched-opt %s -p lower-to-nvptx -t 'ptx{arch=sm_70}' 2>&1 | filecheck %s --check-prefix=ARCH

// -t ptx prints the kernels of the module's gpu.modules once lower-to-nvptx has made them: a clear
// error otherwise, no traceback.

func.func @copy(%A: memref<64xf32>, %B: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.for %tx = %c0 to %c64 step %c1 {
    %a = memref.load %A[%tx] : memref<64xf32>
    memref.store %a, %B[%tx] : memref<64xf32>
  } {sched.annotation = #sched<loop_annotation threadIdx.x>}
  func.return
}

// CHECK: the module has no gpu.module with kernels to compile to PTX (lower it with lower-to-nvptx first)
// CHECK-NOT: Traceback

// UNCONVERTED: cannot translate the GPU kernels to LLVM IR: {{.*}}gpu.func (lower them with lower-to-nvptx first)
// UNCONVERTED-NOT: Traceback

// ARCH: unsupported GPU architecture 'sm_70' (sm_80 and up, like 'sm_80' or 'sm_90')
// ARCH-NOT: Traceback
