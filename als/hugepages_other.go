//go:build !linux

package als

// factorSlice returns n zeroed float32s for a factor matrix (the Linux
// version asks for transparent huge pages).
func factorSlice(n int) []float32 { return make([]float32, n) }
