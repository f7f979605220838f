//go:build amd64 && !amd64.v3

package logistic

// fmaNative is false: with GOAMD64 below v3 the compiler never fuses a*b+c.
const fmaNative = false
