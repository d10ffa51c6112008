package loadgen

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/recs-dev/recs/toplist"
)

// Baseline is the reference server of `make bench-serve` and of serve's
// handler benchmarks: each user's response body (the shape recs serve
// answers GET /v1/users/{id}/recommendations with) encoded once into a
// map, behind a bare handler. It is what serving costs with no work per
// request beyond a map lookup.
func Baseline(meta toplist.Meta, lists []toplist.List) (http.Handler, error) {
	type response struct {
		User        string         `json:"user"`
		Items       []toplist.Item `json:"items"`
		Model       string         `json:"model"`
		GeneratedAt time.Time      `json:"generatedAt"`
	}
	m := make(map[string][]byte, len(lists))
	for _, l := range lists {
		b, err := json.Marshal(response{l.User, l.Items, meta.Model, meta.GeneratedAt})
		if err != nil {
			return nil, err
		}
		m[l.User] = append(b, '\n')
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/users/"), "/recommendations")
		b, ok := m[id]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}), nil
}
