// RUN: sched-opt %s | filecheck %s
// RUN: sched-opt %s | sched-opt | filecheck %s
// RUN: sched-opt %s --print-op-generic | sched-opt | filecheck %s
// RUN: sched-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC

builtin.module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
    %D = sched.get_stage "D" in %root : (!transform.any_op) -> !sched.stage
    %A = sched.get_stage "A" in %root : (!transform.any_op) -> !sched.stage
    %i, %j, %k = sched.get_iters %C : !sched.iter, !sched.iter, !sched.iter
    %i0, %i1, %i2 = sched.split %C, %i by [4, ?] : !sched.iter, !sched.iter, !sched.iter
    %j0, %j1 = sched.split %C, %j by [3] nparts extent 48 : !sched.iter, !sched.iter
    sched.reorder %C, [%i0, %j0, %i1, %k, %i2, %j1]
    sched.annotate %C, %j1 vectorize
    sched.annotate %C, %i0 blockIdx.x
    sched.pragma %C, %i0 "auto_unroll_max_step$16"
    sched.storage_align %C, %k factor 16 offset 1
    %di, %dj = sched.get_iters %D : !sched.iter, !sched.iter
    %di0, %di1 = sched.follow_split %D, %di src_step 0 n_split 1 : !sched.iter, !sched.iter
    %dj0, %dj1 = sched.follow_fused_split %D, %dj src_steps [0, 1] level 0 nparts : !sched.iter, !sched.iter
    %f = sched.fuse %D, [%di0, %dj0]
    sched.compute_at %C at %D, %f
    sched.compute_root %C
    sched.compute_inline %C
    %As = sched.cache_read %A "shared" readers [%C, %D]
    %Dl = sched.cache_write %D "local"
    %Dl_i, %Dl_j, %Dl_k = sched.get_iters %Dl : !sched.iter, !sched.iter, !sched.iter
    %Drf = sched.rfactor %Dl, %Dl_k factor_axis 0
    transform.yield
  }
}

// CHECK:      builtin.module attributes {transform.with_named_sequence} {
// CHECK-NEXT:   transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
// CHECK-NEXT:     %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
// CHECK-NEXT:     %D = sched.get_stage "D" in %root : (!transform.any_op) -> !sched.stage
// CHECK-NEXT:     %A = sched.get_stage "A" in %root : (!transform.any_op) -> !sched.stage
// CHECK-NEXT:     %i, %j, %k = sched.get_iters %C : !sched.iter, !sched.iter, !sched.iter
// CHECK-NEXT:     %i0, %i1, %i2 = sched.split %C, %i by [4, ?] : !sched.iter, !sched.iter, !sched.iter
// CHECK-NEXT:     %j0, %j1 = sched.split %C, %j by [3] nparts extent 48 : !sched.iter, !sched.iter
// CHECK-NEXT:     sched.reorder %C, [%i0, %j0, %i1, %k, %i2, %j1]
// CHECK-NEXT:     sched.annotate %C, %j1 vectorize
// CHECK-NEXT:     sched.annotate %C, %i0 blockIdx.x
// CHECK-NEXT:     sched.pragma %C, %i0 "auto_unroll_max_step$16"
// CHECK-NEXT:     sched.storage_align %C, %k factor 16 offset 1
// CHECK-NEXT:     %di, %dj = sched.get_iters %D : !sched.iter, !sched.iter
// CHECK-NEXT:     %di0, %di1 = sched.follow_split %D, %di src_step 0 n_split 1 : !sched.iter, !sched.iter
// CHECK-NEXT:     %dj0, %dj1 = sched.follow_fused_split %D, %dj src_steps [0, 1] level 0 nparts : !sched.iter, !sched.iter
// CHECK-NEXT:     %f = sched.fuse %D, [%di0, %dj0]
// CHECK-NEXT:     sched.compute_at %C at %D, %f
// CHECK-NEXT:     sched.compute_root %C
// CHECK-NEXT:     sched.compute_inline %C
// CHECK-NEXT:     %As = sched.cache_read %A "shared" readers [%C, %D]
// CHECK-NEXT:     %Dl = sched.cache_write %D "local"
// CHECK-NEXT:     %Dl_i, %Dl_j, %Dl_k = sched.get_iters %Dl : !sched.iter, !sched.iter, !sched.iter
// CHECK-NEXT:     %Drf = sched.rfactor %Dl, %Dl_k factor_axis 0
// CHECK-NEXT:     transform.yield
// CHECK-NEXT:   }
// CHECK-NEXT: }

// GENERIC:      "sched.get_stage"(%root) <{stage_name = "C"}> : (!transform.any_op) -> !sched.stage
// GENERIC:      "sched.get_iters"(%C) : (!sched.stage) -> (!sched.iter, !sched.iter, !sched.iter)
// GENERIC:      "sched.split"(%C, %i) <{lengths = array<i64: 4, -9223372036854775808>}> : (!sched.stage, !sched.iter) -> (!sched.iter, !sched.iter, !sched.iter)
// GENERIC:      "sched.split"(%C, %j) <{lengths = array<i64: 3>, nparts, extent = 48 : i64}>
// GENERIC:      "sched.reorder"(%C, %i0, %j0, %i1, %k, %i2, %j1) : (!sched.stage, !sched.iter, !sched.iter, !sched.iter, !sched.iter, !sched.iter, !sched.iter) -> ()
// GENERIC:      "sched.annotate"(%C, %j1) <{annotation = #sched<loop_annotation vectorize>}> : (!sched.stage, !sched.iter) -> ()
// GENERIC:      "sched.pragma"(%C, %i0) <{pragma = "auto_unroll_max_step$16"}>
// GENERIC:      "sched.storage_align"(%C, %k) <{factor = 16 : i64, offset = 1 : i64}>
// GENERIC:      "sched.follow_split"(%D, %di) <{src_step = 0 : i64, n_split = 1 : i64}>
// GENERIC:      "sched.follow_fused_split"(%D, %dj) <{src_steps = array<i64: 0, 1>, level = 0 : i64, nparts}>
// GENERIC:      "sched.fuse"(%D, %di0, %dj0) : (!sched.stage, !sched.iter, !sched.iter) -> !sched.iter
// GENERIC:      "sched.compute_at"(%C, %D, %f) : (!sched.stage, !sched.stage, !sched.iter) -> ()
// GENERIC:      "sched.compute_root"(%C) : (!sched.stage) -> ()
// GENERIC:      "sched.compute_inline"(%C) : (!sched.stage) -> ()
// GENERIC:      "sched.cache_read"(%A, %C, %D) <{scope = "shared"}> : (!sched.stage, !sched.stage, !sched.stage) -> !sched.stage
// GENERIC:      "sched.cache_write"(%D) <{scope = "local"}> : (!sched.stage) -> !sched.stage
// GENERIC:      "sched.rfactor"(%Dl, %Dl_k) <{factor_axis = 0 : i64}> : (!sched.stage, !sched.iter) -> !sched.stage
