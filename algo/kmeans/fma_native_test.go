//go:build !amd64 || amd64.v3

package kmeans

// fmaNative reports whether math.FMA compiles to a bare instruction. Other
// architectures with FMA units always intrinsify it.
const fmaNative = true
