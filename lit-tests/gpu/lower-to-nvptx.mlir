// RUN: sched-opt %s -p lower-to-nvptx | filecheck %s
// RUN: sched-opt %s -p lower-to-nvptx -t ptx | filecheck %s --check-prefix=PTX
// RUN: sched-opt %s -p 'lower-to-nvptx' -t 'ptx{arch=sm_90}' | filecheck %s --check-prefix=SM90

// Ansor's GPU structure on a 32x32x32 matmul: C tiled 16x16 per block
// (blockIdx.x), 2x2 virtual threads, 4x4 threads of 2x2 elements, the
// reduction split by 8 around copies of A and B into shared memory that
// the block's 16 threads fetch together, accumulated in a per-thread
// C.local.

func.func @matmul(%A: tensor<32x32xf32> {te.name = "A"}, %B: tensor<32x32xf32> {te.name = "B"}) -> tensor<32x32xf32> {
  %C = te.compute "C" spatial(i: 32, j: 32) reduce<sum>(k: 32) ins(%A, %B : tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32> {
  ^bb0(%i: index, %j: index, %k: index):
    %a = te.read %A[%i, %k] : tensor<32x32xf32>
    %b = te.read %B[%k, %j] : tensor<32x32xf32>
    %p = arith.mulf %a, %b : f32
    te.yield %p : f32
  }
  func.return %C : tensor<32x32xf32>
}

transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %C.local = sched.cache_write %C "local"
  %A = sched.get_stage "A" in %root : (!transform.any_op) -> !sched.stage
  %A.shared = sched.cache_read %A "shared" readers [%C.local]
  %B = sched.get_stage "B" in %root : (!transform.any_op) -> !sched.stage
  %B.shared = sched.cache_read %B "shared" readers [%C.local]
  %C_i, %C_j = sched.get_iters %C : !sched.iter, !sched.iter
  %C_i.0, %C_i.1, %C_i.2, %C_i.3 = sched.split %C, %C_i by [2, 4, 2] : !sched.iter, !sched.iter, !sched.iter, !sched.iter
  %C_j.0, %C_j.1, %C_j.2, %C_j.3 = sched.split %C, %C_j by [2, 4, 2] : !sched.iter, !sched.iter, !sched.iter, !sched.iter
  sched.reorder %C, [%C_i.0, %C_j.0, %C_i.1, %C_j.1, %C_i.2, %C_j.2, %C_i.3, %C_j.3]
  %C_i.0_j.0 = sched.fuse %C, [%C_i.0, %C_j.0]
  %C_i.1_j.1 = sched.fuse %C, [%C_i.1, %C_j.1]
  %C_i.2_j.2 = sched.fuse %C, [%C_i.2, %C_j.2]
  sched.annotate %C, %C_i.0_j.0 blockIdx.x
  sched.annotate %C, %C_i.1_j.1 vthread
  sched.annotate %C, %C_i.2_j.2 threadIdx.x
  sched.compute_at %C.local at %C, %C_i.2_j.2
  %C.local_i, %C.local_j, %C.local_k = sched.get_iters %C.local : !sched.iter, !sched.iter, !sched.iter
  %C.local_k.0, %C.local_k.1 = sched.split %C.local, %C.local_k by [8] : !sched.iter, !sched.iter
  sched.reorder %C.local, [%C.local_k.0, %C.local_k.1, %C.local_i, %C.local_j]
  sched.compute_at %A.shared at %C.local, %C.local_k.0
  %A.shared_ax0, %A.shared_ax1 = sched.get_iters %A.shared : !sched.iter, !sched.iter
  %A.shared_ax0_ax1 = sched.fuse %A.shared, [%A.shared_ax0, %A.shared_ax1]
  %A.shared_ax0_ax1_.0, %A.shared_ax0_ax1_.1 = sched.split %A.shared, %A.shared_ax0_ax1 by [16] : !sched.iter, !sched.iter
  sched.annotate %A.shared, %A.shared_ax0_ax1_.1 threadIdx.x
  sched.compute_at %B.shared at %C.local, %C.local_k.0
  %B.shared_ax0, %B.shared_ax1 = sched.get_iters %B.shared : !sched.iter, !sched.iter
  %B.shared_ax0_ax1 = sched.fuse %B.shared, [%B.shared_ax0, %B.shared_ax1]
  %B.shared_ax0_ax1_.0, %B.shared_ax0_ax1_.1 = sched.split %B.shared, %B.shared_ax0_ax1 by [16] : !sched.iter, !sched.iter
  sched.annotate %B.shared, %B.shared_ax0_ax1_.1 threadIdx.x
  transform.yield
}

// The host launches one kernel: 4 blocks of 16 threads. The kernel takes A,
// B and C in global memory (address space 1), keeps A.shared and B.shared
// (16x8 and 8x16 floats) in address space 3 and waits at a barrier before
// and after filling them (the two fills share the barrier between them).
// CHECK:      builtin.module attributes {gpu.container_module} {
// CHECK-NEXT:   func.func @matmul(%A: memref<32x32xf32> {te.name = "A"}, %B: memref<32x32xf32> {te.name = "B"}, %C: memref<32x32xf32> {te.name = "C"}) {
// CHECK-NEXT:     %[[BLOCKS:.*]] = arith.constant 4 : index
// CHECK-NEXT:     %[[ONE:.*]] = arith.constant 1 : index
// CHECK-NEXT:     %[[THREADS:.*]] = arith.constant 16 : index
// CHECK-NEXT:     "gpu.launch_func"(%[[BLOCKS]], %[[ONE]], %[[ONE]], %[[THREADS]], %[[ONE]], %[[ONE]], %A, %B, %C) <{kernel = @matmul_kernels::@matmul_kernel0, {{.*}}}>
// CHECK-NEXT:     func.return
// CHECK:        "gpu.module"() <{sym_name = "matmul_kernels"}> ({
// CHECK-NEXT:     llvm.mlir.global internal @matmul_kernel0_shared0() {addr_space = 3 : i32, alignment = 64 : i64} : !llvm.array<128 x f32>
// CHECK-NEXT:     llvm.mlir.global internal @matmul_kernel0_shared1() {addr_space = 3 : i32, alignment = 64 : i64} : !llvm.array<128 x f32>
// CHECK-NEXT:     llvm.func @matmul_kernel0(%A: !llvm.ptr<1> {llvm.noalias}, %B: !llvm.ptr<1> {llvm.noalias}, %C: !llvm.ptr<1> {llvm.noalias}) attributes {nvvm.kernel} {
// CHECK:            %A_shared = llvm.mlir.addressof @matmul_kernel0_shared0 : !llvm.ptr<3>
// CHECK-NEXT:       %B_shared = llvm.mlir.addressof @matmul_kernel0_shared1 : !llvm.ptr<3>
// CHECK-NEXT:       %blockIdx_x = llvm.call_intrinsic "llvm.nvvm.read.ptx.sreg.ctaid.x"() : () -> i32
// CHECK:            %threadIdx_x = llvm.call_intrinsic "llvm.nvvm.read.ptx.sreg.tid.x"() : () -> i32
// CHECK:            llvm.call_intrinsic "llvm.nvvm.barrier0"() : () -> ()
// CHECK:            llvm.load %{{.*}} {alignment = 4 : i64} : !llvm.ptr<1> -> f32
// CHECK:            llvm.store %{{.*}}, %{{.*}} {alignment = 4 : i64} : f32, !llvm.ptr<3>
// CHECK:            llvm.call_intrinsic "llvm.nvvm.barrier0"() : () -> ()
// CHECK:            llvm.store %{{.*}}, %{{.*}} {alignment = 4 : i64} : f32, !llvm.ptr<3>
// CHECK:            llvm.call_intrinsic "llvm.nvvm.barrier0"() : () -> ()
// CHECK-NOT:        llvm.call_intrinsic "llvm.nvvm.barrier0"
// CHECK:            llvm.load %{{.*}} {alignment = 4 : i64} : !llvm.ptr<3> -> f32
// CHECK:            llvm.store %{{.*}}, %{{.*}} {alignment = 4 : i64} : f32, !llvm.ptr<1>
// CHECK:            llvm.return
// CHECK-NOT:    te.compute
// CHECK-NOT:    transform.named_sequence

// PTX:      .target sm_80
// PTX:      .visible .entry matmul_kernel0(
// PTX-NEXT:   .param .u64 .ptr .global .align 1 matmul_kernel0_param_0,
// PTX:        .shared .align 64 .b8 matmul_kernel0_shared0[512];
// PTX:        .shared .align 64 .b8 matmul_kernel0_shared1[512];
// PTX:        mov.u32 {{.*}}, %ctaid.x;
// PTX:        mov.u32 {{.*}}, %tid.x;
// PTX:        bar.sync 0;
// PTX:        ld.shared
// PTX:        st.shared
// PTX:        ret;

// SM90: .target sm_90
// SM90: .visible .entry matmul_kernel0(
