//go:build !amd64 && (!arm64 || purego)

package topk

// Only the portable kernel exists on this architecture.
