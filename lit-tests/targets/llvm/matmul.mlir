// RUN: sched-opt %s -p convert-to-llvm -t llvm | filecheck %s

func.func @matmul(%A: memref<16x8xf32>, %B: memref<8x12xf32>, %C: memref<16x12xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c12 = arith.constant 12 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c16 step %c1 {
    scf.for %j = %c0 to %c12 step %c1 {
      %acc = scf.for %k = %c0 to %c8 step %c1 iter_args(%s = %zero) -> (f32) {
        %a = memref.load %A[%i, %k] : memref<16x8xf32>
        %b = memref.load %B[%k, %j] : memref<8x12xf32>
        %p = arith.mulf %a, %b fastmath<contract> : f32
        %t = arith.addf %s, %p fastmath<contract> : f32
        scf.yield %t : f32
      }
      memref.store %acc, %C[%i, %j] : memref<16x12xf32>
    }
  }
  func.return
}

// Bare noalias pointers, contract flags that let LLVM fuse into FMAs, inbounds GEPs.
// CHECK:      define void @"matmul"(ptr noalias %{{.*}}, ptr noalias %{{.*}}, ptr noalias %{{.*}})
// CHECK:        phi i64
// CHECK:        %[[A:.*]] = getelementptr inbounds float, ptr %{{.*}}, i64 %{{.*}}
// CHECK-NEXT:   load float, ptr %[[A]], align 4
// CHECK:        %[[P:.*]] = fmul contract float
// CHECK-NEXT:   fadd contract float %{{.*}}, %[[P]]
// CHECK:        store float %{{.*}}, ptr %{{.*}}, align 4
// CHECK:        ret void
