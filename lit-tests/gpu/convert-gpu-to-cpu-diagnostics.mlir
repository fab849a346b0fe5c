// RUN: sched-opt %s -p convert-gpu-to-cpu --split-input-file --verify-diagnostics | filecheck %s

// A barrier that only some threads of a block reach cannot be split into phases.

builtin.module attributes {gpu.container_module} {
  func.func @divergent(%X: memref<8xf32>) {
    %c1 = arith.constant 1 : index
    %c8 = arith.constant 8 : index
    "gpu.launch_func"(%c1, %c1, %c1, %c8, %c1, %c1, %X) <{kernel = @divergent_kernels::@divergent_kernel0, operandSegmentSizes = array<i32: 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0>}> : (index, index, index, index, index, index, memref<8xf32>) -> ()
    func.return
  }
  "gpu.module"() <{sym_name = "divergent_kernels"}> ({
    "gpu.func"() <{function_type = (memref<8xf32>) -> (), kernel}> ({
    ^bb0(%X: memref<8xf32>):
      %tx = "gpu.thread_id"() <{dimension = #gpu<dim x>}> : () -> index
      %c4 = arith.constant 4 : index
      %low = arith.cmpi ult, %tx, %c4 : index
      scf.if %low {
        "gpu.barrier"() : () -> ()
      }
      "gpu.return"() : () -> ()
    }) {sym_name = "divergent_kernel0"} : () -> ()
  }) : () -> ()
}

// CHECK: convert-gpu-to-cpu: gpu.barrier in @divergent_kernel0 inside scf.if whose condition depends on the thread (a barrier must be reached by all threads of a block)

// -----

builtin.module attributes {gpu.container_module} {
  func.func @loop(%X: memref<8xf32>) {
    %c1 = arith.constant 1 : index
    %c8 = arith.constant 8 : index
    "gpu.launch_func"(%c1, %c1, %c1, %c8, %c1, %c1, %X) <{kernel = @loop_kernels::@loop_kernel0, operandSegmentSizes = array<i32: 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0>}> : (index, index, index, index, index, index, memref<8xf32>) -> ()
    func.return
  }
  "gpu.module"() <{sym_name = "loop_kernels"}> ({
    "gpu.func"() <{function_type = (memref<8xf32>) -> (), kernel}> ({
    ^bb0(%X: memref<8xf32>):
      %tx = "gpu.thread_id"() <{dimension = #gpu<dim x>}> : () -> index
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      scf.for %i = %c0 to %tx step %c1 {
        "gpu.barrier"() : () -> ()
      }
      "gpu.return"() : () -> ()
    }) {sym_name = "loop_kernel0"} : () -> ()
  }) : () -> ()
}

// CHECK: convert-gpu-to-cpu: gpu.barrier in @loop_kernel0 inside scf.for whose bounds depend on the thread

// -----

builtin.module attributes {gpu.container_module} {
  func.func @nested_shared(%X: memref<8xf32>) {
    %c1 = arith.constant 1 : index
    %c8 = arith.constant 8 : index
    "gpu.launch_func"(%c1, %c1, %c1, %c8, %c1, %c1, %X) <{kernel = @nested_shared_kernels::@nested_shared_kernel0, operandSegmentSizes = array<i32: 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0>}> : (index, index, index, index, index, index, memref<8xf32>) -> ()
    func.return
  }
  "gpu.module"() <{sym_name = "nested_shared_kernels"}> ({
    "gpu.func"() <{function_type = (memref<8xf32>) -> (), kernel}> ({
    ^bb0(%X: memref<8xf32>):
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      scf.for %i = %c0 to %c1 step %c1 {
        %sh = memref.alloca() : memref<8xf32, 3 : i64>
      }
      "gpu.return"() : () -> ()
    }) {sym_name = "nested_shared_kernel0"} : () -> ()
  }) : () -> ()
}

// CHECK: convert-gpu-to-cpu: shared memory memref<8xf32, 3 : i64> in @nested_shared_kernel0 is allocated inside a region; allocate it at the top level of the kernel
