// Package toplist holds precomputed recommendation lists (each user's top k
// items with scores, in rank order) and their files: JSON lines and Parquet.
package toplist

import "time"

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
