// RUN: sched-opt %s -p convert-gpu-to-nvvm | filecheck %s

// The kernel becomes an llvm.func marked nvvm.kernel with its buffers in
// global memory, the ids NVVM special registers, the barrier
// llvm.nvvm.barrier0, the shared buffer an addrspace(3) global. The host
// function is left as it is.

builtin.module attributes {gpu.container_module} {
  func.func @copy(%A: memref<64xf32>, %B: memref<64xf32>) {
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c32 = arith.constant 32 : index
    "gpu.launch_func"(%c2, %c1, %c1, %c32, %c1, %c1, %A, %B) <{kernel = @copy_kernels::@copy_kernel0, operandSegmentSizes = array<i32: 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, 0>}> : (index, index, index, index, index, index, memref<64xf32>, memref<64xf32>) -> ()
    func.return
  }
  "gpu.module"() <{sym_name = "copy_kernels"}> ({
    "gpu.func"() <{function_type = (memref<64xf32>, memref<64xf32>) -> (), kernel}> ({
    ^bb0(%A: memref<64xf32>, %B: memref<64xf32>):
      %c32 = arith.constant 32 : index
      %S = memref.alloca() {alignment = 64 : i64} : memref<32xf32, 3 : i64>
      %bx = "gpu.block_id"() <{dimension = #gpu<dim x>}> : () -> index
      %tx = "gpu.thread_id"() <{dimension = #gpu<dim x>}> : () -> index
      %base = arith.muli %bx, %c32 : index
      %i = arith.addi %base, %tx : index
      %a = memref.load %A[%i] : memref<64xf32>
      memref.store %a, %S[%tx] : memref<32xf32, 3 : i64>
      "gpu.barrier"() : () -> ()
      %s = memref.load %S[%tx] : memref<32xf32, 3 : i64>
      memref.store %s, %B[%i] : memref<64xf32>
      "gpu.return"() : () -> ()
    }) {sym_name = "copy_kernel0"} : () -> ()
  }) : () -> ()
}

// CHECK:      func.func @copy(%A: memref<64xf32>, %B: memref<64xf32>) {
// CHECK:        "gpu.launch_func"
// CHECK:      "gpu.module"() <{sym_name = "copy_kernels"}> ({
// CHECK-NEXT:   llvm.mlir.global internal @copy_kernel0_shared0() {addr_space = 3 : i32, alignment = 64 : i64} : !llvm.array<32 x f32>
// CHECK-NEXT:   llvm.func @copy_kernel0(%A: !llvm.ptr<1> {llvm.noalias}, %B: !llvm.ptr<1> {llvm.noalias}) attributes {nvvm.kernel} {
// CHECK-NEXT:     %[[C32:.*]] = llvm.mlir.constant(32) : i64
// CHECK-NEXT:     %S = llvm.mlir.addressof @copy_kernel0_shared0 : !llvm.ptr<3>
// CHECK-NEXT:     %bx = llvm.call_intrinsic "llvm.nvvm.read.ptx.sreg.ctaid.x"() : () -> i32
// CHECK-NEXT:     %[[BX:.*]] = llvm.zext %bx : i32 to i64
// CHECK-NEXT:     %tx = llvm.call_intrinsic "llvm.nvvm.read.ptx.sreg.tid.x"() : () -> i32
// CHECK-NEXT:     %[[TX:.*]] = llvm.zext %tx : i32 to i64
// CHECK-NEXT:     %base = llvm.mul %[[BX]], %[[C32]] : i64
// CHECK-NEXT:     %i = llvm.add %base, %[[TX]] : i64
// CHECK-NEXT:     %[[A_AT:.*]] = llvm.getelementptr inbounds %A[%i] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, f32
// CHECK-NEXT:     %[[A:.*]] = llvm.load %[[A_AT]] {alignment = 4 : i64} : !llvm.ptr<1> -> f32
// CHECK-NEXT:     %[[S_AT:.*]] = llvm.getelementptr inbounds %S[%[[TX]]] : (!llvm.ptr<3>, i64) -> !llvm.ptr<3>, f32
// CHECK-NEXT:     llvm.store %[[A]], %[[S_AT]] {alignment = 4 : i64} : f32, !llvm.ptr<3>
// CHECK-NEXT:     llvm.call_intrinsic "llvm.nvvm.barrier0"() : () -> ()
// CHECK-NEXT:     %[[S_AT2:.*]] = llvm.getelementptr inbounds %S[%[[TX]]] : (!llvm.ptr<3>, i64) -> !llvm.ptr<3>, f32
// CHECK-NEXT:     %[[S:.*]] = llvm.load %[[S_AT2]] {alignment = 4 : i64} : !llvm.ptr<3> -> f32
// CHECK-NEXT:     %[[B_AT:.*]] = llvm.getelementptr inbounds %B[%i] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, f32
// CHECK-NEXT:     llvm.store %[[S]], %[[B_AT]] {alignment = 4 : i64} : f32, !llvm.ptr<1>
// CHECK-NEXT:     llvm.return
// CHECK-NEXT:   }
// CHECK-NEXT: }) : () -> ()
