package loadgen

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/recs-dev/recs/toplist"
)

// The baseline answers a known user with the body recs serve sends (user,
// items, model, generatedAt; written out by hand below) and an unknown one
// with 404.
func TestBaseline(t *testing.T) {
	meta := toplist.Meta{Model: "m1", GeneratedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	h, err := Baseline(meta, []toplist.List{{User: "u7", Items: []toplist.Item{{ID: "i1", Score: 0.5}}}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/users/u7/recommendations", nil))
	want := `{"user":"u7","items":[{"id":"i1","score":0.5}],"model":"m1","generatedAt":"2026-01-02T03:04:05Z"}` + "\n"
	if rec.Code != 200 || rec.Body.String() != want || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("known user: %d %q %q, want 200 %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String(), want)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/users/nobody/recommendations", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("unknown user: %d, want 404", rec.Code)
	}
}
