// RUN: sched-opt %s -p convert-bound-loops-to-gpu | filecheck %s

// Two stages at root: two kernels, launched in order. The first binds 64
// threads in x and its nested cooperative loop of 48: that one runs under a
// guard. The vthread loop stays a serial loop, without its annotation; the
// shared buffer moves to the top of its kernel.
func.func @two_stages(%A: memref<128xf32>, %B: memref<128xf32>, %C: memref<128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c48 = arith.constant 48 : index
  %c64 = arith.constant 64 : index
  scf.for %bx = %c0 to %c2 step %c1 {
    scf.for %v = %c0 to %c2 step %c1 {
      scf.for %tx = %c0 to %c64 step %c1 {
        "gpu.barrier"() : () -> ()
        %S = memref.alloca() {alignment = 64 : i64} : memref<48xf32, 3 : i64>
        scf.for %cx = %c0 to %c48 step %c1 {
          %a = memref.load %A[%cx] : memref<128xf32>
          memref.store %a, %S[%cx] : memref<48xf32, 3 : i64>
        } {sched.annotation = #sched<loop_annotation threadIdx.x>}
        "gpu.barrier"() : () -> ()
        %s = memref.load %S[%v] : memref<48xf32, 3 : i64>
        memref.store %s, %B[%tx] : memref<128xf32>
      } {sched.annotation = #sched<loop_annotation threadIdx.x>}
    } {sched.annotation = #sched<loop_annotation vthread>}
  } {sched.annotation = #sched<loop_annotation blockIdx.x>}
  scf.for %by = %c0 to %c2 step %c1 {
    scf.for %ty = %c0 to %c64 step %c1 {
      %b = memref.load %B[%ty] : memref<128xf32>
      memref.store %b, %C[%ty] : memref<128xf32>
    } {sched.annotation = #sched<loop_annotation threadIdx.y>}
  } {sched.annotation = #sched<loop_annotation blockIdx.y>}
  func.return
}

// CHECK:      builtin.module attributes {gpu.container_module} {
// CHECK-NEXT:   func.func @two_stages(%A: memref<128xf32>, %B: memref<128xf32>, %C: memref<128xf32>) {
// CHECK-NEXT:     %[[TWO:.*]] = arith.constant 2 : index
// CHECK-NEXT:     %[[ONE:.*]] = arith.constant 1 : index
// CHECK-NEXT:     %[[SIXTY_FOUR:.*]] = arith.constant 64 : index
// CHECK-NEXT:     "gpu.launch_func"(%[[TWO]], %[[ONE]], %[[ONE]], %[[SIXTY_FOUR]], %[[ONE]], %[[ONE]], %A, %B) <{kernel = @two_stages_kernels::@two_stages_kernel0, {{.*}}}>
// CHECK:          "gpu.launch_func"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %B, %C) <{kernel = @two_stages_kernels::@two_stages_kernel1, {{.*}}}>
// CHECK-NEXT:     func.return
// CHECK-NEXT:   }
// CHECK-NEXT:   "gpu.module"() <{sym_name = "two_stages_kernels"}> ({
// CHECK-NEXT:     "gpu.func"() <{function_type = (memref<128xf32>, memref<128xf32>) -> (), kernel}> ({
// CHECK-NEXT:     ^{{.*}}(%A: memref<128xf32>, %B: memref<128xf32>):
// CHECK:            %S = memref.alloca() {alignment = 64 : i64} : memref<48xf32, 3 : i64>
// CHECK-NEXT:       %blockIdx_x = "gpu.block_id"() <{dimension = #gpu<dim x>}> : () -> index
// CHECK-NEXT:       %threadIdx_x = "gpu.thread_id"() <{dimension = #gpu<dim x>}> : () -> index
// CHECK-NEXT:       scf.for %v = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT:         "gpu.barrier"() : () -> ()
// CHECK-NEXT:         %[[FORTY_EIGHT:.*]] = arith.constant 48 : index
// CHECK-NEXT:         %[[INSIDE:.*]] = arith.cmpi ult, %threadIdx_x, %[[FORTY_EIGHT]] : index
// CHECK-NEXT:         scf.if %[[INSIDE]] {
// CHECK-NEXT:           %a = memref.load %A[%threadIdx_x] : memref<128xf32>
// CHECK-NEXT:           memref.store %a, %S[%threadIdx_x] : memref<48xf32, 3 : i64>
// CHECK-NEXT:         }
// CHECK-NEXT:         "gpu.barrier"() : () -> ()
// CHECK-NEXT:         %s = memref.load %S[%v] : memref<48xf32, 3 : i64>
// CHECK-NEXT:         memref.store %s, %B[%threadIdx_x] : memref<128xf32>
// CHECK-NEXT:       }
// CHECK-NEXT:       "gpu.return"() : () -> ()
// CHECK-NEXT:     }) {sym_name = "two_stages_kernel0"} : () -> ()
// CHECK-NEXT:     "gpu.func"() <{function_type = (memref<128xf32>, memref<128xf32>) -> (), kernel}> ({
// CHECK:            %blockIdx_y = "gpu.block_id"() <{dimension = #gpu<dim y>}> : () -> index
// CHECK-NEXT:       %threadIdx_y = "gpu.thread_id"() <{dimension = #gpu<dim y>}> : () -> index
// CHECK-NEXT:       %b = memref.load %B[%threadIdx_y] : memref<128xf32>
// CHECK-NEXT:       memref.store %b, %C[%threadIdx_y] : memref<128xf32>
// CHECK-NEXT:       "gpu.return"() : () -> ()
// CHECK-NEXT:     }) {sym_name = "two_stages_kernel1"} : () -> ()
// CHECK-NEXT:   }) : () -> ()
// CHECK-NEXT: }
// CHECK-NOT:  sched.annotation
