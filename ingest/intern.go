package ingest

import "math/bits"

// interner assigns dense indices to ids in order of first appearance.
//
// Canonical decimal ids (all MovieLens ids) take an array: dense[v] holds
// index+1 of id v (0: not seen), so the hot path is one bounds check and
// one load instead of hashing a string. The array grows while it stays
// dense enough (length at most 16 per id seen, or 4M entries); larger or
// sparser numbers go to a map, and other ids to a string map. The three
// stores never hold the same id: the decimal and string forms of an id are
// told apart by canonicalDecimal before lookup.
type interner struct {
	dense []int32
	nums  map[uint64]int32
	strs  map[string]int32
	ids   []string
}

const denseFloor = 1 << 22

func newInterner() *interner {
	return &interner{nums: map[uint64]int32{}, strs: map[string]int32{}}
}

// num returns the index of the decimal id v.
func (in *interner) num(v uint64) int32 {
	if v < uint64(len(in.dense)) {
		if x := in.dense[v]; x != 0 {
			return x - 1
		}
	}
	return in.numSlow(v)
}

func (in *interner) numSlow(v uint64) int32 {
	if x, ok := in.nums[v]; ok {
		return x
	}
	idx := int32(len(in.ids))
	in.ids = append(in.ids, formatDecimal(v))
	if limit := max(uint64(denseFloor), 16*uint64(len(in.ids))); v < limit {
		if v >= uint64(len(in.dense)) {
			n := max(uint64(1)<<bits.Len64(v), 1024)
			grown := make([]int32, min(n, limit))
			copy(grown, in.dense)
			in.dense = grown
		}
		in.dense[v] = idx + 1
		return idx
	}
	in.nums[v] = idx
	return idx
}

// str returns the index of the non-decimal id s.
func (in *interner) str(s string) int32 {
	if x, ok := in.strs[s]; ok {
		return x
	}
	idx := int32(len(in.ids))
	in.ids = append(in.ids, s)
	in.strs[s] = idx
	return idx
}

// id returns the index of an id given as text.
func (in *interner) id(s string) int32 {
	if v, ok := canonicalDecimal([]byte(s)); ok {
		return in.num(v)
	}
	return in.str(s)
}
