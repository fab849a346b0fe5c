// RUN: sched-opt %s -p math-polynomial-approximation | filecheck %s

func.func @exp_scalar(%x: f32) -> f32 {
  %y = math.exp %x : f32
  func.return %y : f32
}

// CHECK-LABEL: func.func @exp_scalar(%x: f32) -> f32 {
// Clamping with the NaN-propagating min/max.
// CHECK-NEXT:    %[[LO:.*]] = arith.constant -1.200000e+02 : f32
// CHECK-NEXT:    %[[X0:.*]] = arith.maximumf %x, %[[LO]] : f32
// CHECK-NEXT:    %[[HI:.*]] = arith.constant 8.900000e+01 : f32
// CHECK-NEXT:    %[[X:.*]] = arith.minimumf %[[X0]], %[[HI]] : f32
// k = roundeven(x log2 e); r = x - k ln2, ln2 in two parts.
// CHECK-NEXT:    %[[LOG2E:.*]] = arith.constant 1.44269502 : f32
// CHECK-NEXT:    %[[T:.*]] = arith.mulf %[[X]], %[[LOG2E]] fastmath<contract> : f32
// CHECK-NEXT:    %[[K:.*]] = math.roundeven %[[T]] : f32
// CHECK-NEXT:    %[[HEAD:.*]] = arith.constant -0.693359375 : f32
// CHECK-NEXT:    %[[KH:.*]] = arith.mulf %[[K]], %[[HEAD]] fastmath<contract> : f32
// CHECK-NEXT:    %[[R0:.*]] = arith.addf %[[KH]], %[[X]] fastmath<contract> : f32
// CHECK-NEXT:    %[[TAIL:.*]] = arith.constant 0.000212194442 : f32
// CHECK-NEXT:    %[[KT:.*]] = arith.mulf %[[K]], %[[TAIL]] fastmath<contract> : f32
// CHECK-NEXT:    %[[R:.*]] = arith.addf %[[KT]], %[[R0]] fastmath<contract> : f32
// The polynomial by Horner's rule, ending in 1 + r q(r).
// CHECK-NEXT:    %[[C7:.*]] = arith.constant 0.000198756912 : f32
// CHECK-NEXT:    %[[C6:.*]] = arith.constant 0.00139819994 : f32
// CHECK-NEXT:    %[[M6:.*]] = arith.mulf %[[C7]], %[[R]] fastmath<contract> : f32
// CHECK-NEXT:    %{{.*}} = arith.addf %[[M6]], %[[C6]] fastmath<contract> : f32
// CHECK-COUNT-4: arith.constant
// CHECK:         %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:    %[[M1:.*]] = arith.mulf %{{.*}}, %[[R]] fastmath<contract> : f32
// CHECK-NEXT:    %[[Q:.*]] = arith.addf %[[M1]], %[[ONE]] fastmath<contract> : f32
// CHECK-NEXT:    %[[M0:.*]] = arith.mulf %[[Q]], %[[R]] fastmath<contract> : f32
// CHECK-NEXT:    %[[P:.*]] = arith.addf %[[M0]], %[[ONE]] fastmath<contract> : f32
// k as an integer, from the bits of k + 1.5 * 2^23.
// CHECK-NEXT:    %[[MAGIC:.*]] = arith.constant 0x4B400000 : f32
// CHECK-NEXT:    %[[KM:.*]] = arith.addf %[[K]], %[[MAGIC]] fastmath<contract> : f32
// CHECK-NEXT:    %[[KMBITS:.*]] = arith.bitcast %[[KM]] : f32 to i32
// CHECK-NEXT:    %[[MAGICBITS:.*]] = arith.constant 1262485504 : i32
// CHECK-NEXT:    %[[KI:.*]] = arith.subi %[[KMBITS]], %[[MAGICBITS]] : i32
// Scaling by 2^(k >> 1) and then by 2^(k - (k >> 1)).
// CHECK-NEXT:    %[[C1:.*]] = arith.constant 1 : i32
// CHECK-NEXT:    %[[K1:.*]] = arith.shrsi %[[KI]], %[[C1]] : i32
// CHECK-NEXT:    %[[K2:.*]] = arith.subi %[[KI]], %[[K1]] : i32
// CHECK-NEXT:    %[[BIAS:.*]] = arith.constant 127 : i32
// CHECK-NEXT:    %[[E1:.*]] = arith.addi %[[K1]], %[[BIAS]] : i32
// CHECK-NEXT:    %[[C23:.*]] = arith.constant 23 : i32
// CHECK-NEXT:    %[[B1:.*]] = arith.shli %[[E1]], %[[C23]] : i32
// CHECK-NEXT:    %[[S1:.*]] = arith.bitcast %[[B1]] : i32 to f32
// CHECK-NEXT:    %[[Y1:.*]] = arith.mulf %[[P]], %[[S1]] fastmath<contract> : f32
// CHECK-NEXT:    %[[E2:.*]] = arith.addi %[[K2]], %[[BIAS]] : i32
// CHECK-NEXT:    %[[B2:.*]] = arith.shli %[[E2]], %[[C23]] : i32
// CHECK-NEXT:    %[[S2:.*]] = arith.bitcast %[[B2]] : i32 to f32
// CHECK-NEXT:    %y = arith.mulf %[[Y1]], %[[S2]] fastmath<contract> : f32
// CHECK-NEXT:    func.return %y : f32

func.func @exp_vector(%x: vector<16xf32>) -> vector<16xf32> {
  %y = math.exp %x : vector<16xf32>
  func.return %y : vector<16xf32>
}

// The same ops on vectors, with splat constants.
// CHECK-LABEL: func.func @exp_vector(%x: vector<16xf32>) -> vector<16xf32> {
// CHECK-NEXT:    %[[LO:.*]] = arith.constant dense<-1.200000e+02> : vector<16xf32>
// CHECK-NEXT:    %{{.*}} = arith.maximumf %x, %[[LO]] : vector<16xf32>
// CHECK:         %[[K:.*]] = math.roundeven %{{.*}} : vector<16xf32>
// CHECK:         %[[KM:.*]] = arith.addf %[[K]], %{{.*}} fastmath<contract> : vector<16xf32>
// CHECK-NEXT:    %[[KMBITS:.*]] = arith.bitcast %[[KM]] : vector<16xf32> to vector<16xi32>
// CHECK-NEXT:    %[[MAGICBITS:.*]] = arith.constant dense<1262485504> : vector<16xi32>
// CHECK-NEXT:    %{{.*}} = arith.subi %[[KMBITS]], %[[MAGICBITS]] : vector<16xi32>
// CHECK:         %[[S1:.*]] = arith.bitcast %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK-NEXT:    %[[Y1:.*]] = arith.mulf %{{.*}}, %[[S1]] fastmath<contract> : vector<16xf32>
// CHECK:         %[[S2:.*]] = arith.bitcast %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK-NEXT:    %y = arith.mulf %[[Y1]], %[[S2]] fastmath<contract> : vector<16xf32>
// CHECK-NEXT:    func.return %y : vector<16xf32>

func.func @exp2_scalar(%x: f32) -> f32 {
  %y = math.exp2 %x : f32
  func.return %y : f32
}

// exp2: k = roundeven(x), r = (x - k) ln2; the polynomial and the scaling are exp's.
// CHECK-LABEL: func.func @exp2_scalar(%x: f32) -> f32 {
// CHECK-NEXT:    %[[LO:.*]] = arith.constant -1.600000e+02 : f32
// CHECK-NEXT:    %[[X0:.*]] = arith.maximumf %x, %[[LO]] : f32
// CHECK-NEXT:    %[[HI:.*]] = arith.constant 1.290000e+02 : f32
// CHECK-NEXT:    %[[X:.*]] = arith.minimumf %[[X0]], %[[HI]] : f32
// CHECK-NEXT:    %[[K:.*]] = math.roundeven %[[X]] : f32
// CHECK-NEXT:    %[[F:.*]] = arith.subf %[[X]], %[[K]] fastmath<contract> : f32
// CHECK-NEXT:    %[[LN2:.*]] = arith.constant 0.693147182 : f32
// CHECK-NEXT:    %{{.*}} = arith.mulf %[[F]], %[[LN2]] fastmath<contract> : f32
// CHECK-NEXT:    %{{.*}} = arith.constant 0.000198756912 : f32
// CHECK-NOT:     math.
// CHECK:         func.return %y : f32

func.func @exp_f64(%x: f64, %v: vector<4xf64>) -> (f64, vector<4xf64>) {
  %y = math.exp %x : f64
  %w = math.exp2 %v : vector<4xf64>
  func.return %y, %w : f64, vector<4xf64>
}

// Other types are left to convert-math-to-llvm.
// CHECK-LABEL: func.func @exp_f64(%x: f64, %v: vector<4xf64>) -> (f64, vector<4xf64>) {
// CHECK-NEXT:    %y = math.exp %x : f64
// CHECK-NEXT:    %w = math.exp2 %v : vector<4xf64>
// CHECK-NEXT:    func.return %y, %w : f64, vector<4xf64>
