// REQUIRES: ptxas
// RUN: sched-opt %s -p lower-to-nvptx -t ptx > %t.ptx
// RUN: ptxas -arch=sm_80 %t.ptx -o %t.cubin
// RUN: sched-opt %s -p lower-to-nvptx -t 'ptx{arch=sm_90}' > %t.sm90.ptx
// RUN: ptxas -arch=sm_90 %t.sm90.ptx -o %t.sm90.cubin

// ptxas accepts the PTX of two kernels: the sum of exp over each row (a
// thread per row, math.exp as arithmetic), then a scaling of every element
// (an intermediate buffer between them, a block size that does not divide).

func.func @row_exp_sum(%A: tensor<100x64xf32> {te.name = "A"}) -> tensor<100xf32> {
  %S = te.compute "S" spatial(i: 100) reduce<sum>(k: 64) ins(%A : tensor<100x64xf32>) -> tensor<100xf32> {
  ^bb0(%i: index, %k: index):
    %a = te.read %A[%i, %k] : tensor<100x64xf32>
    %e = math.exp %a : f32
    te.yield %e : f32
  }
  %T = te.compute "T" spatial(i: 100) ins(%S : tensor<100xf32>) -> tensor<100xf32> {
  ^bb0(%i: index):
    %s = te.read %S[%i] : tensor<100xf32>
    %t = arith.mulf %s, %s : f32
    te.yield %t : f32
  }
  func.return %T : tensor<100xf32>
}

transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %S = sched.get_stage "S" in %root : (!transform.any_op) -> !sched.stage
  %S_i, %S_k = sched.get_iters %S : !sched.iter, !sched.iter
  %S_i.0, %S_i.1 = sched.split %S, %S_i by [32] : !sched.iter, !sched.iter
  sched.annotate %S, %S_i.0 blockIdx.x
  sched.annotate %S, %S_i.1 threadIdx.x
  %T = sched.get_stage "T" in %root : (!transform.any_op) -> !sched.stage
  %T_i = sched.get_iters %T : !sched.iter
  %T_i.0, %T_i.1 = sched.split %T, %T_i by [64] : !sched.iter, !sched.iter
  sched.annotate %T, %T_i.0 blockIdx.x
  sched.annotate %T, %T_i.1 threadIdx.x
  transform.yield
}
