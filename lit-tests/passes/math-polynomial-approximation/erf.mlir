// RUN: sched-opt %s -p math-polynomial-approximation | filecheck %s

func.func @erf_scalar(%x: f32) -> f32 {
  %y = math.erf %x : f32
  func.return %y : f32
}

// CHECK-LABEL: func.func @erf_scalar(%x: f32) -> f32 {
// x clamped to [-4, 4], where erf rounds to -1 and 1, with the NaN-propagating min/max.
// CHECK-NEXT:    %[[LO:.*]] = arith.constant -4.000000e+00 : f32
// CHECK-NEXT:    %[[X0:.*]] = arith.maximumf %x, %[[LO]] : f32
// CHECK-NEXT:    %[[HI:.*]] = arith.constant 4.000000e+00 : f32
// CHECK-NEXT:    %[[X:.*]] = arith.minimumf %[[X0]], %[[HI]] : f32
// CHECK-NEXT:    %[[T:.*]] = arith.mulf %[[X]], %[[X]] fastmath<contract> : f32
// x P(x^2), P by Horner's rule, ending in 2 / sqrt(pi).
// CHECK-NEXT:    %[[P5:.*]] = arith.constant 1.98672751e-06 : f32
// CHECK:         %[[P0:.*]] = arith.constant 1.12837911 : f32
// CHECK-NEXT:    %[[PM:.*]] = arith.mulf %{{.*}}, %[[T]] fastmath<contract> : f32
// CHECK-NEXT:    %[[P:.*]] = arith.addf %[[PM]], %[[P0]] fastmath<contract> : f32
// CHECK-NEXT:    %[[XP:.*]] = arith.mulf %[[X]], %[[P]] fastmath<contract> : f32
// Q(x^2), ending in 1.
// CHECK-NEXT:    %{{.*}} = arith.constant 3.74194497e-05 : f32
// CHECK:         %[[Q0:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:    %[[QM:.*]] = arith.mulf %{{.*}}, %[[T]] fastmath<contract> : f32
// CHECK-NEXT:    %[[Q:.*]] = arith.addf %[[QM]], %[[Q0]] fastmath<contract> : f32
// CHECK-NEXT:    %[[R:.*]] = arith.divf %[[XP]], %[[Q]] fastmath<contract> : f32
// The quotient clamped to [-1, 1].
// CHECK-NEXT:    %[[MINUS_ONE:.*]] = arith.constant -1.000000e+00 : f32
// CHECK-NEXT:    %[[R0:.*]] = arith.maximumf %[[R]], %[[MINUS_ONE]] : f32
// CHECK-NEXT:    %y = arith.minimumf %[[R0]], %[[Q0]] : f32
// CHECK-NEXT:    func.return %y : f32

func.func @erf_vector(%x: vector<16xf32>) -> vector<16xf32> {
  %y = math.erf %x : vector<16xf32>
  func.return %y : vector<16xf32>
}

// The same ops on vectors, with splat constants.
// CHECK-LABEL: func.func @erf_vector(%x: vector<16xf32>) -> vector<16xf32> {
// CHECK-NEXT:    %[[LO:.*]] = arith.constant dense<-4.000000e+00> : vector<16xf32>
// CHECK-NEXT:    %{{.*}} = arith.maximumf %x, %[[LO]] : vector<16xf32>
// CHECK-NOT:     math.
// CHECK:         %[[R:.*]] = arith.divf %{{.*}}, %{{.*}} fastmath<contract> : vector<16xf32>
// CHECK:         %y = arith.minimumf %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK-NEXT:    func.return %y : vector<16xf32>

func.func @erf_f64(%x: f64) -> f64 {
  %y = math.erf %x : f64
  func.return %y : f64
}

// f64 is left to convert-math-to-llvm (libm's erf).
// CHECK-LABEL: func.func @erf_f64(%x: f64) -> f64 {
// CHECK-NEXT:    %y = math.erf %x : f64
// CHECK-NEXT:    func.return %y : f64
