package serve

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"time"
	"unicode/utf8"

	"github.com/recs-dev/recs/toplist"
)

// Record is one user's response, pre-encoded: body holds
// `{"user":"<id>","items":[` followed by the items separated by commas,
// ends[j] is the end of item j within body, and tail closes the object
// (`],"model":…,"generatedAt":…}` and a newline). The response for k items
// is body[:ends[k-1]] followed by tail. A Record refers to memory owned by
// its store and must not be modified.
type Record struct {
	body []byte
	head int // length of body before the first item
	ends []uint32
	tail []byte // ends with '\n'
}

// Len returns the number of items in the record.
func (r Record) Len() int { return len(r.ends) }

// cut returns the record's first part for k items (k is clamped to the
// number of items held).
func (r Record) cut(k int) []byte {
	if k > len(r.ends) {
		k = len(r.ends)
	}
	if k <= 0 {
		return r.body[:r.head]
	}
	return r.body[:r.ends[k-1]]
}

// Store answers lookups of users' lists.
type Store interface {
	// Lookup returns user's record; ok is false when the store has no list
	// for user. err is a failure to answer (a service error), not absence.
	Lookup(ctx context.Context, user string) (rec Record, ok bool, err error)
	// MaxK is the largest k a request may ask for.
	MaxK() int
	// Info describes the store for logs, metrics and /readyz.
	Info() StoreInfo
}

// StoreInfo describes a store.
type StoreInfo struct {
	Kind        string    `json:"kind"`                    // "index" or "cosmos"
	Source      string    `json:"source"`                  // where it was read from, without secrets
	Users       int       `json:"users,omitempty"`         // number of users (index only)
	Bytes       int64     `json:"bytes,omitempty"`         // memory held by encoded responses (index only)
	K           int       `json:"k"`                       // the precomputed list length
	Model       string    `json:"model,omitempty"`         // model id, when known
	GeneratedAt time.Time `json:"generatedAt,omitzero"`    // when the lists were computed, when known
	Version     string    `json:"version,omitempty"`       // the source version loaded (run id, etag)
	LoadedAt    time.Time `json:"loadedAt,omitzero"`       // when this store was built
	Fallback    int       `json:"fallbackItems,omitempty"` // length of the popular list carried, if any
}

// Index is an immutable in-memory store of every user's pre-encoded
// response. Its memory holds no pointers apart from a few slice headers: the
// encoded records live in one byte arena, the user ids in another, and the
// hash table holds offsets, so the garbage collector never scans it.
//
// Lookup costs one hash of the id and, on average, about one probe; it
// allocates nothing. Memory is about the size of the encoded JSON plus 40
// bytes per user and 4 per item.
type Index struct {
	data     []byte   // records, concatenated
	recStart []int    // n+1 offsets into data
	head     []uint32 // per record: length before the first item
	endStart []int    // n+1 offsets into ends
	ends     []uint32 // item ends, relative to the record start
	keys     []byte   // raw user ids, concatenated
	keyStart []int    // n+1 offsets into keys
	slots    []uint64 // open addressing: hash high 32 bits << 32 | record index + 1; 0 = empty
	seed     maphash.Seed
	tail     []byte // `],"model":…,"generatedAt":…}` + "\n"
	k        int
	meta     toplist.Meta
	info     StoreInfo
	popular  *Popular // the run's popular items for the fallback, or nil
}

var _ Store = (*Index)(nil)

// MaxIDBytes is the longest user id accepted, in bytes.
const MaxIDBytes = 256

// ValidID reports whether id can name a user: 1 to MaxIDBytes bytes of
// valid UTF-8 without control characters.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDBytes {
		return false
	}
	for i := 0; i < len(id); {
		b := id[i]
		if b < utf8.RuneSelf {
			if b < 0x20 || b == 0x7f {
				return false
			}
			i++
			continue
		}
		c, size := utf8.DecodeRuneInString(id[i:])
		if c == utf8.RuneError && size == 1 {
			return false
		}
		if c >= 0x80 && c <= 0x9f { // C1 controls
			return false
		}
		i += size
	}
	return true
}

// Builder accumulates lists into an Index. The zero value is not usable;
// call NewBuilder.
type Builder struct {
	idx  *Index
	maxN int // largest list seen
}

// NewBuilder starts an index for lists described by meta. meta.K, when
// positive, bounds every list's length and is the largest k served;
// otherwise the longest list sets it. sizeHint (users) may be 0.
func NewBuilder(meta toplist.Meta, sizeHint int) *Builder {
	idx := &Index{meta: meta, seed: maphash.MakeSeed()}
	idx.recStart = make([]int, 1, sizeHint+1)
	idx.endStart = make([]int, 1, sizeHint+1)
	idx.keyStart = make([]int, 1, sizeHint+1)
	idx.head = make([]uint32, 0, sizeHint)
	n := 16
	for n < 2*sizeHint {
		n *= 2
	}
	idx.slots = make([]uint64, n)
	return &Builder{idx: idx}
}

// Len returns the number of lists added so far.
func (b *Builder) Len() int { return len(b.idx.head) }

// Add adds one user's list. It fails on an invalid or repeated user id, a
// list longer than meta.K, or a score that is NaN or infinite; the builder
// stays usable after a failed Add (the list is not added).
func (b *Builder) Add(l toplist.List) error {
	idx := b.idx
	if !ValidID(l.User) {
		return fmt.Errorf("user id %q is not valid (1 to %d bytes of UTF-8 without control characters)", truncateID(l.User), MaxIDBytes)
	}
	if idx.meta.K > 0 && len(l.Items) > idx.meta.K {
		return fmt.Errorf("user %q has %d items, more than k = %d", l.User, len(l.Items), idx.meta.K)
	}
	for _, it := range l.Items {
		if math.IsNaN(float64(it.Score)) || math.IsInf(float64(it.Score), 0) {
			return fmt.Errorf("user %q: item %q has score %v", l.User, it.ID, it.Score)
		}
	}
	h := maphash.String(idx.seed, l.User)
	if _, found := idx.find(h, l.User); found {
		return fmt.Errorf("user %q appears twice", l.User)
	}
	if 2*(len(idx.head)+1) > len(idx.slots) {
		idx.grow()
	}

	start := len(idx.data)
	d := append(idx.data, `{"user":`...)
	d = toplist.AppendJSONString(d, l.User)
	d = append(d, `,"items":[`...)
	idx.head = append(idx.head, uint32(len(d)-start))
	for j, it := range l.Items {
		if j > 0 {
			d = append(d, ',')
		}
		d = appendItem(d, it)
		idx.ends = append(idx.ends, uint32(len(d)-start))
	}
	idx.data = d
	idx.recStart = append(idx.recStart, len(d))
	idx.endStart = append(idx.endStart, len(idx.ends))
	idx.keys = append(idx.keys, l.User...)
	idx.keyStart = append(idx.keyStart, len(idx.keys))
	idx.insert(h, len(idx.head)-1)
	b.maxN = max(b.maxN, len(l.Items))
	return nil
}

// Build returns the index. The builder must not be used afterwards.
func (b *Builder) Build() *Index {
	idx := b.idx
	b.idx = nil
	idx.k = idx.meta.K
	if idx.k <= 0 {
		idx.k = b.maxN
	}
	idx.tail = appendTail(nil, idx.meta.Model, idx.meta.GeneratedAt, false)
	idx.tail = append(idx.tail, '\n')
	idx.info = StoreInfo{
		Kind: "index", Users: len(idx.head), K: idx.k,
		Model: idx.meta.Model, GeneratedAt: idx.meta.GeneratedAt,
		Bytes:    int64(len(idx.data) + len(idx.keys) + 4*len(idx.ends) + 8*len(idx.slots) + 36*len(idx.head)),
		LoadedAt: time.Now().UTC(),
	}
	return idx
}

// NewIndex builds an index of lists (see Builder.Add for what fails).
func NewIndex(meta toplist.Meta, lists []toplist.List) (*Index, error) {
	b := NewBuilder(meta, len(lists))
	for _, l := range lists {
		if err := b.Add(l); err != nil {
			return nil, err
		}
	}
	return b.Build(), nil
}

func appendItem(d []byte, it toplist.Item) []byte {
	d = append(d, `{"id":`...)
	d = toplist.AppendJSONString(d, it.ID)
	d = append(d, `,"score":`...)
	d = toplist.AppendScore(d, it.Score)
	return append(d, '}')
}

// appendTail closes a response object after its items.
func appendTail(d []byte, model string, at time.Time, fallback bool) []byte {
	d = append(d, ']')
	if model != "" {
		d = append(d, `,"model":`...)
		d = toplist.AppendJSONString(d, model)
	}
	if !at.IsZero() {
		d = append(d, `,"generatedAt":"`...)
		d = at.UTC().AppendFormat(d, time.RFC3339Nano)
		d = append(d, '"')
	}
	if fallback {
		d = append(d, `,"fallback":true`...)
	}
	return append(d, '}')
}

func (idx *Index) find(h uint64, user string) (int, bool) {
	mask := uint64(len(idx.slots) - 1)
	tag := h >> 32
	for p := h & mask; ; p = (p + 1) & mask {
		s := idx.slots[p]
		if s == 0 {
			return 0, false
		}
		if s>>32 == tag {
			i := int(uint32(s)) - 1
			if string(idx.keys[idx.keyStart[i]:idx.keyStart[i+1]]) == user {
				return i, true
			}
		}
	}
}

func (idx *Index) insert(h uint64, i int) {
	mask := uint64(len(idx.slots) - 1)
	p := h & mask
	for idx.slots[p] != 0 {
		p = (p + 1) & mask
	}
	idx.slots[p] = h>>32<<32 | uint64(i+1)
}

func (idx *Index) grow() {
	old := idx.slots
	idx.slots = make([]uint64, 2*len(old))
	for i := range idx.head {
		h := maphash.String(idx.seed, string(idx.keys[idx.keyStart[i]:idx.keyStart[i+1]]))
		idx.insert(h, i)
	}
}

// Get returns user's record without allocating.
func (idx *Index) Get(user string) (Record, bool) {
	i, ok := idx.find(maphash.String(idx.seed, user), user)
	if !ok {
		return Record{}, false
	}
	s, e := idx.recStart[i], idx.recStart[i+1]
	return Record{
		body: idx.data[s:e:e],
		head: int(idx.head[i]),
		ends: idx.ends[idx.endStart[i]:idx.endStart[i+1]:idx.endStart[i+1]],
		tail: idx.tail,
	}, true
}

// Lookup implements Store; it never fails.
func (idx *Index) Lookup(_ context.Context, user string) (Record, bool, error) {
	r, ok := idx.Get(user)
	return r, ok, nil
}

// Len returns the number of users.
func (idx *Index) Len() int { return len(idx.head) }

// MaxK implements Store: the precomputed list length.
func (idx *Index) MaxK() int { return idx.k }

// Meta returns the description of the lists the index was built from.
func (idx *Index) Meta() toplist.Meta { return idx.meta }

// Info implements Store.
func (idx *Index) Info() StoreInfo { return idx.info }

// Popular returns the popular-items list loaded with the index, or nil.
func (idx *Index) Popular() *Popular { return idx.popular }

// WithSource returns idx described as read from source at version, carrying
// popular (which may be nil) for the fallback. It is meant for sources right
// after building, before the index is shared.
func (idx *Index) WithSource(source, version string, popular *Popular) *Index {
	idx.info.Source = source
	idx.info.Version = version
	idx.popular = popular
	if popular != nil {
		idx.info.Fallback = popular.Len()
	}
	return idx
}

func truncateID(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
