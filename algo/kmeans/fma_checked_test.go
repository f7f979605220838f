//go:build amd64 && !amd64.v3

package kmeans

// fmaNative is false: with GOAMD64 below v3 every math.FMA also tests a CPU
// feature flag.
const fmaNative = false
