package ratings

import (
	"math/bits"
	"sync"
	"unsafe"
)

// poolAllocator is an Arrow memory.Allocator that keeps freed buffers for
// reuse, by power-of-two size class. Reading a file allocates the same
// buffers for every row group; recycling them keeps the garbage (and so
// the peak memory) of a read to about one row group.
type poolAllocator struct {
	mu   sync.Mutex
	free [64][][]byte
}

const poolMinClass = 6 // 64 bytes

func sizeClass(n int) int {
	if n <= 1<<poolMinClass {
		return poolMinClass
	}
	return bits.Len(uint(n - 1))
}

func (p *poolAllocator) Allocate(size int) []byte {
	c := sizeClass(size)
	p.mu.Lock()
	if k := len(p.free[c]); k > 0 {
		b := p.free[c][k-1]
		p.free[c] = p.free[c][:k-1]
		p.mu.Unlock()
		b = b[:size]
		clear(b)
		return b
	}
	p.mu.Unlock()
	// 64-byte aligned, as Arrow's Go allocator.
	raw := make([]byte, 1<<c+64)
	shift := int(-uintptr(unsafe.Pointer(unsafe.SliceData(raw))) & 63)
	return raw[shift : shift+size : shift+1<<c]
}

func (p *poolAllocator) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		return b[:size]
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

func (p *poolAllocator) Free(b []byte) {
	c := bits.Len(uint(cap(b))) - 1
	if cap(b) < 1<<poolMinClass || cap(b) != 1<<c {
		return // not one of ours
	}
	p.mu.Lock()
	if len(p.free[c]) < 8 {
		p.free[c] = append(p.free[c], b[:0])
	}
	p.mu.Unlock()
}
