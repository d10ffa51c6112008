//go:build !amd64

package topk

// Only the portable kernel exists on this architecture.
