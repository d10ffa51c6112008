//go:build purego || (!amd64 && !arm64)

package topk

// Only the portable kernel exists on this architecture.
