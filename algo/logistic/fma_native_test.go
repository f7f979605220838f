//go:build !amd64 || amd64.v3

package logistic

// fmaNative reports whether the compiler may fuse a*b+c into an FMA.
const fmaNative = true
