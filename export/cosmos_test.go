package export

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/recs-dev/recs/internal/emulator"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/toplist"
)

var dbSeq atomic.Int64

// uniqueDB names a database no other test uses (the emulator is shared).
func uniqueDB(t *testing.T) string {
	return fmt.Sprintf("db-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), dbSeq.Add(1))
}

func cosmosClient(t *testing.T, endpoint string) *azcosmos.Client {
	t.Helper()
	c, err := NewCosmosClient(endpoint, emulator.CosmosKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fullDoc is the default document shape.
type fullDoc struct {
	ID    string `json:"id"`
	Items []struct {
		ID    string  `json:"id"`
		Score float32 `json:"score"`
	} `json:"items"`
	Model       string `json:"model"`
	GeneratedAt string `json:"generatedAt"`
	TTL         *int   `json:"ttl"`
	MovieID     []string
}

// readAll returns every document of the container by id, failing the test
// if an id occurs more than once.
func readAll(t *testing.T, c *azcosmos.Client, db, cont string) map[string]fullDoc {
	t.Helper()
	cc, err := c.NewContainer(db, cont)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]fullDoc{}
	pager := cc.NewQueryItemsPager("SELECT * FROM c", azcosmos.NewPartitionKey(), nil)
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range page.Items {
			var d fullDoc
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatal(err)
			}
			if _, dup := out[d.ID]; dup {
				t.Errorf("document %q present twice", d.ID)
			}
			out[d.ID] = d
		}
	}
	return out
}

// checkDocs asserts that the container holds exactly one document per list
// with the list's items and scores (bit for bit), the model and the time.
func checkDocs(t *testing.T, docs map[string]fullDoc, lists []toplist.List, meta toplist.Meta) {
	t.Helper()
	if len(docs) != len(lists) {
		t.Errorf("%d documents, want %d", len(docs), len(lists))
	}
	bad := 0
	for _, l := range lists {
		d, ok := docs[l.User]
		if !ok {
			t.Errorf("user %q has no document", l.User)
			bad++
		} else if d.Model != meta.Model || d.GeneratedAt != meta.GeneratedAt.Format(time.RFC3339Nano) || len(d.Items) != len(l.Items) {
			t.Errorf("user %q: document %+v", l.User, d)
			bad++
		} else {
			for i, it := range l.Items {
				if d.Items[i].ID != it.ID || math.Float32bits(d.Items[i].Score) != math.Float32bits(it.Score) {
					t.Errorf("user %q item %d = %+v, want %+v", l.User, i, d.Items[i], it)
					bad++
					break
				}
			}
		}
		if bad > 5 {
			t.Fatal("too many bad documents")
		}
	}
}

func TestCosmosSink(t *testing.T) {
	emu := emulator.Cosmos(t)
	client := cosmosClient(t, emu.Endpoint)
	db := uniqueDB(t)
	lists := genLists(500, 10, 11)
	s := &CosmosSink{Client: client, Database: db, MaxConcurrency: 8}
	st, err := s.Publish(context.Background(), testMeta, Lists(lists))
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents != 500 || st.Retries != 0 || st.Throttles != 0 || st.Bytes == 0 {
		t.Errorf("stats = %+v", st)
	}
	checkDocs(t, readAll(t, client, db, DefaultContainer), lists, testMeta)

	// A second run with new scores overwrites, still one document per user.
	lists2 := genLists(500, 10, 12)
	if _, err := s.Publish(context.Background(), testMeta, Lists(lists2)); err != nil {
		t.Fatal(err)
	}
	checkDocs(t, readAll(t, client, db, DefaultContainer), lists2, testMeta)
}

func TestCosmosReferenceShapeAndTTL(t *testing.T) {
	emu := emulator.Cosmos(t)
	client := cosmosClient(t, emu.Endpoint)
	db := uniqueDB(t)
	lists := genLists(20, 10, 13)
	s := &CosmosSink{Client: client, Database: db, Container: "user_recommendations_als", Shape: ShapeReference, TTL: 86400}
	if _, err := s.Publish(context.Background(), testMeta, Lists(lists)); err != nil {
		t.Fatal(err)
	}
	docs := readAll(t, client, db, "user_recommendations_als")
	for _, l := range lists {
		d := docs[l.User]
		var ids []string
		for _, it := range l.Items {
			ids = append(ids, it.ID)
		}
		if fmt.Sprint(d.MovieID) != fmt.Sprint(ids) || d.Items != nil || d.Model != "" || d.TTL == nil || *d.TTL != 86400 {
			t.Errorf("user %q: document %+v, want MovieId %v and ttl 86400 only", l.User, d, ids)
		}
	}
	// The container was created with partition key /id and TTL on.
	cc, _ := client.NewContainer(db, "user_recommendations_als")
	resp, err := cc.Read(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := resp.ContainerProperties
	if fmt.Sprint(p.PartitionKeyDefinition.Paths) != "[/id]" || p.DefaultTimeToLive == nil || *p.DefaultTimeToLive != -1 {
		t.Errorf("container properties: paths %v, default ttl %v", p.PartitionKeyDefinition.Paths, p.DefaultTimeToLive)
	}
}

func TestCosmosDocumentBytes(t *testing.T) {
	// The exact documents, from the shapes in the issue (full and the
	// reference architecture's), with JSON escaping of odd ids.
	meta := toplist.Meta{Model: "m\"1", K: 2, GeneratedAt: time.Date(2024, 5, 1, 2, 0, 0, 0, time.FixedZone("x", 3600))}
	l := toplist.List{User: "u\n1", Items: []toplist.Item{{ID: "a", Score: 4.5}, {ID: "b", Score: -0.25}}}
	full := (&CosmosSink{Shape: ShapeFull}).document(meta, &l)
	want := `{"id":"u\n1","items":[{"id":"a","score":4.5},{"id":"b","score":-0.25}],"model":"m\"1","generatedAt":"2024-05-01T01:00:00Z"}`
	if string(full) != want {
		t.Errorf("full:\n got %s\nwant %s", full, want)
	}
	ref := (&CosmosSink{Shape: ShapeReference, TTL: 60}).document(meta, &l)
	if want := `{"id":"u\n1","MovieId":["a","b"],"ttl":60}`; string(ref) != want {
		t.Errorf("reference:\n got %s\nwant %s", ref, want)
	}
	for _, b := range [][]byte{full, ref} {
		if !json.Valid(b) {
			t.Errorf("invalid JSON %s", b)
		}
	}
}

func TestCosmosRejectsBadIDsAndPartitionKey(t *testing.T) {
	emu := emulator.Cosmos(t)
	client := cosmosClient(t, emu.Endpoint)
	db := uniqueDB(t)
	s := &CosmosSink{Client: client, Database: db}
	_, err := s.Publish(context.Background(), testMeta, Lists([]toplist.List{{User: "a/b", Items: []toplist.Item{}}}))
	if !errs.IsInput(err) || !strings.Contains(err.Error(), `"a/b"`) {
		t.Errorf("err = %v, want an input error naming the user", err)
	}
	// An existing container with another partition key is refused.
	d, _ := client.NewDatabase(db)
	if _, err := d.CreateContainer(context.Background(), azcosmos.ContainerProperties{ID: "other",
		PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/user"}}}, nil); err != nil {
		t.Fatal(err)
	}
	s.Container = "other"
	_, err = s.Publish(context.Background(), testMeta, Lists(genLists(3, 10, 1)))
	if err == nil || !strings.Contains(err.Error(), "partition key [/user]") {
		t.Errorf("err = %v, want a partition key complaint", err)
	}
}

// TestCosmosSecrets checks that the key appears in no error and no log line
// when the endpoint refuses the key or cannot be reached.
func TestCosmosSecrets(t *testing.T) {
	emu := emulator.Cosmos(t)
	key := emulator.CosmosKey
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, endpoint := range []string{"http://127.0.0.1:1/", emu.Endpoint + "no-such-path/"} {
		client, err := NewCosmosClient(endpoint, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := &CosmosSink{Client: client, Database: uniqueDB(t), MaxRetries: 1, Backoff: Backoff{Base: time.Millisecond},
			Secrets: []string{key}, Log: log, RequestTimeout: 2 * time.Second}
		_, err = s.Publish(context.Background(), testMeta, Lists(genLists(3, 10, 1)))
		if err == nil {
			t.Fatalf("%s: publish succeeded", endpoint)
		}
		if !errs.IsService(err) {
			t.Errorf("%s: err = %v, want a service error", endpoint, err)
		}
		t.Logf("error as shown to the user: %v", err)
		if strings.Contains(err.Error(), key) || strings.Contains(logs.String(), key) {
			t.Errorf("the key leaked: %v\n%s", err, logs.String())
		}
	}
	if _, err := NewCosmosClient("not a url", key, nil); err == nil || strings.Contains(err.Error(), key) {
		t.Errorf("bad endpoint: err = %v", err)
	}
}

func TestClassify(t *testing.T) {
	resp := func(code int, h map[string]string) error {
		r := &http.Response{StatusCode: code, Status: http.StatusText(code), Header: http.Header{}, Request: &http.Request{Method: "POST"}}
		for k, v := range h {
			r.Header.Set(k, v)
		}
		return &azcore.ResponseError{StatusCode: code, RawResponse: r}
	}
	for _, tc := range []struct {
		err   error
		want  outcome
		after time.Duration
	}{
		{resp(429, map[string]string{"x-ms-retry-after-ms": "250"}), throttle, 250 * time.Millisecond},
		{resp(429, map[string]string{"Retry-After": "2"}), throttle, 2 * time.Second},
		{resp(429, map[string]string{"x-ms-retry-after-ms": "1.5", "Retry-After": "9"}), throttle, 1500 * time.Microsecond},
		{resp(429, nil), throttle, 0},
		{resp(503, nil), transient, 0},
		{resp(408, nil), transient, 0},
		{resp(449, nil), transient, 0},
		{resp(500, nil), transient, 0},
		{resp(400, nil), permanent, 0},
		{resp(401, nil), permanent, 0},
		{resp(413, nil), permanent, 0},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), transient, 0},
	} {
		o, _, after := classify(tc.err)
		if o != tc.want || after != tc.after {
			t.Errorf("%v: outcome %d after %v, want %d after %v", tc.err, o, after, tc.want, tc.after)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	b := Backoff{Base: 10 * time.Millisecond, Max: 100 * time.Millisecond}
	// Full jitter: retry n waits in [0, min(Max, Base·2^(n-1))].
	for n, ceil := range map[int]time.Duration{1: 10 * time.Millisecond, 2: 20 * time.Millisecond, 4: 80 * time.Millisecond, 5: 100 * time.Millisecond, 30: 100 * time.Millisecond} {
		for range 200 {
			if d := b.Delay(n); d < 0 || d > ceil {
				t.Fatalf("Delay(%d) = %v, outside [0, %v]", n, d, ceil)
			}
		}
	}
}
