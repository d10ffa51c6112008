package toplist

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Item is one recommended item and its score.
type Item struct {
	ID    string  `json:"id"`
	Score float32 `json:"score"`
}

// List is one user's recommendations, best first.
type List struct {
	User  string `json:"user"`
	Items []Item `json:"items"`
}

// Meta describes a set of lists.
type Meta struct {
	Model       string    `json:"model"`       // model id
	K           int       `json:"k"`           // list length asked for
	GeneratedAt time.Time `json:"generatedAt"` // when the lists were computed
}

// Validate reports the first problem of l against meta: an empty user or
// item id, a repeated item, a score that is not finite, or more than
// meta.K items (when meta.K > 0). Lists may be shorter than K (a user who
// rated almost every item).
func (l *List) Validate(meta Meta) error {
	if l.User == "" {
		return errors.New("user id is empty")
	}
	if meta.K > 0 && len(l.Items) > meta.K {
		return fmt.Errorf("user %q: %d items, more than k = %d", l.User, len(l.Items), meta.K)
	}
	for i, it := range l.Items {
		if it.ID == "" {
			return fmt.Errorf("user %q: item %d has an empty id", l.User, i+1)
		}
		if s := float64(it.Score); math.IsNaN(s) || math.IsInf(s, 0) {
			return fmt.Errorf("user %q: item %q: score %v is not finite", l.User, it.ID, it.Score)
		}
		// Lists are short (k is 10 or so): a quadratic scan beats a map.
		for _, prev := range l.Items[:i] {
			if prev.ID == it.ID {
				return fmt.Errorf("user %q: item %q appears twice", l.User, it.ID)
			}
		}
	}
	return nil
}

// Validate checks meta: K must not be negative.
func (m Meta) Validate() error {
	if m.K < 0 {
		return fmt.Errorf("k = %d is negative", m.K)
	}
	return nil
}
