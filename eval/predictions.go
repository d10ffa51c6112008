package eval

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/toplist"
)

// Predictions are scored (user, item) pairs made by any recommender, with
// original ids. Row r scores item ItemIDs[Items[r]] for user
// UserIDs[Users[r]]; rows keep the order they were added in, which breaks
// ties between equal scores.
type Predictions struct {
	Source  string // file name, for messages
	Model   string // model id from a top-k file header; "" when unknown
	UserIDs []string
	ItemIDs []string
	Users   []int32
	Items   []int32
	Scores  []float32

	userIdx, itemIdx map[string]int32
}

// NewPredictions returns an empty set; source names it in messages.
func NewPredictions(source string) *Predictions {
	return &Predictions{Source: source, userIdx: map[string]int32{}, itemIdx: map[string]int32{}}
}

// Add appends one row.
func (p *Predictions) Add(user, item string, score float32) {
	p.Users = append(p.Users, intern(p.userIdx, &p.UserIDs, user))
	p.Items = append(p.Items, intern(p.itemIdx, &p.ItemIDs, item))
	p.Scores = append(p.Scores, score)
}

// Len returns the number of rows.
func (p *Predictions) Len() int { return len(p.Users) }

func intern(idx map[string]int32, ids *[]string, id string) int32 {
	i, ok := idx[id]
	if !ok {
		i = int32(len(*ids))
		idx[id] = i
		*ids = append(*ids, id)
	}
	return i
}

// FromLists turns top-k lists (as written by `recs recommend`) into
// predictions: each list's items in rank order with their scores.
func FromLists(source string, meta toplist.Meta, lists []toplist.List) *Predictions {
	p := NewPredictions(source)
	p.Model = meta.Model
	for _, l := range lists {
		for _, it := range l.Items {
			p.Add(l.User, it.ID, it.Score)
		}
	}
	return p
}

// ReadPredictionsFile reads predictions from path: a recs top-k file
// (.jsonl, .jsonl.gz or .parquet, read with toplist) or delimited text of
// user, item, score rows (see ReadPredictions).
func ReadPredictionsFile(ctx context.Context, path string) (*Predictions, error) {
	if _, err := toplist.FormatOf(path); err == nil {
		r, err := toplist.Open(path)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		p := NewPredictions(path)
		p.Model = r.Meta().Model
		for n := 0; ; n++ {
			if n%4096 == 0 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			l, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, err
			}
			for _, it := range l.Items {
				p.Add(l.User, it.ID, it.Score)
			}
		}
		return p, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, errs.Input(path, err)
	}
	defer f.Close()
	return ReadPredictions(ctx, f, path)
}

// ReadPredictions reads rows of user, item, score separated by tabs or
// commas (the first line decides), with an optional header line (a first
// line whose third field is not a number). Further fields are ignored;
// blank lines are skipped. Errors name the file and line: a missing field,
// a score that is not a finite number, or a (user, item) pair seen before.
func ReadPredictions(ctx context.Context, r io.Reader, name string) (*Predictions, error) {
	p := NewPredictions(name)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var sep byte
	seen := map[uint64]int64{}
	var line int64
	started := false // a non-blank line was read: no header after it
	for sc.Scan() {
		line++
		if line%65536 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		b := bytes.TrimRight(sc.Bytes(), "\r")
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if sep == 0 {
			sep = ','
			if bytes.IndexByte(b, '\t') >= 0 {
				sep = '\t'
			}
		}
		f := strings.Split(string(b), string(sep))
		if len(f) < 3 {
			return nil, errs.Inputf(name, line, "want user%citem%cscore, got %d field(s)", sep, sep, len(f))
		}
		user, item, sv := strings.TrimSpace(f[0]), strings.TrimSpace(f[1]), strings.TrimSpace(f[2])
		score, err := strconv.ParseFloat(sv, 32)
		first := !started
		started = true
		if err != nil && first {
			continue // header
		}
		if err != nil || math.IsNaN(score) || math.IsInf(score, 0) {
			return nil, errs.Inputf(name, line, "score %q is not a finite number", sv)
		}
		if user == "" || item == "" {
			return nil, errs.Inputf(name, line, "empty user or item id")
		}
		p.Add(user, item, float32(score))
		key := uint64(p.Users[p.Len()-1])<<32 | uint64(p.Items[p.Len()-1])
		if prev, dup := seen[key]; dup {
			return nil, errs.Inputf(name, line, "user %q item %q already predicted on line %d", user, item, prev)
		}
		seen[key] = line
	}
	if err := sc.Err(); err != nil {
		return nil, errs.Inputf(name, line+1, "%v", err)
	}
	return p, nil
}
