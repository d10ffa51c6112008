package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/recs-dev/recs/internal/emulator"
	"github.com/recs-dev/recs/toplist"
)

var listeningRE = regexp.MustCompile(`"?addr"?[=:]"?(127\.0\.0\.1:\d+)`)

// startServe runs `recs serve ARGS --addr 127.0.0.1:0` in-process until
// the test ends and returns its base URL and its log.
func startServe(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		env := &Env{In: bytes.NewReader(nil), Out: &out, Err: &errb}
		done <- Run(ctx, env, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...))
	}()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := listeningRE.FindStringSubmatch(errb.String()); m != nil {
			base := "http://" + m[1]
			// Ready once the lists are loaded (or the store checked).
			for time.Now().Before(deadline) {
				if r, err := http.Get(base + "/readyz"); err == nil {
					r.Body.Close()
					if r.StatusCode == 200 {
						return base, &errb
					}
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		select {
		case code := <-done:
			t.Fatalf("recs serve %v exited %d:\n%s", args, code, errb.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("recs serve %v did not get ready:\n%s", args, errb.String())
	return "", nil
}

func httpBody(t *testing.T, method, u, body string) string {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return fmt.Sprintf("%d %s", r.StatusCode, b)
}

// TestTrainPublishRedisServe: `recs train --publish redis` publishes the
// run's lists to redis-server, and `recs serve --from redis://…` answers
// every request with the bytes `recs serve --from runs/latest` answers.
// The password never shows, in output or in the run's files.
func TestTrainPublishRedisServe(t *testing.T) {
	srv := emulator.Redis(t)
	dir := t.TempDir()
	ratings := filepath.Join(dir, "ratings.csv")
	if code, _, stderr := runArgs(t, "synth", "--users", "200", "--items", "300", "--ratings", "8000", "--seed", "5", "-o", ratings); code != ExitOK {
		t.Fatalf("synth: exit %d\n%s", code, stderr)
	}
	runs := filepath.Join(dir, "runs")
	prefix := fmt.Sprintf("cli-%d", time.Now().UnixNano())
	t.Setenv("RECS_REDIS_URL", srv.URL(0))
	t.Setenv("RECS_REDIS_PASSWORD", srv.Password)
	code, stdout, stderr := runArgs(t, "train", ratings, "--runs", runs, "--rank", "4", "--max-iter", "3",
		"--publish", "redis", "--redis-prefix", prefix)
	if code != ExitOK {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "published 200 lists to redis") {
		t.Errorf("train output does not report the publication:\n%s", stdout)
	}
	cfg, err := os.ReadFile(filepath.Join(runs, "latest", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), "redis_prefix: "+prefix) {
		t.Errorf("config.yaml does not record the Redis prefix:\n%s", cfg)
	}
	noSecrets(t, []string{srv.Password}, stdout, stderr, string(cfg))

	memURL, _ := startServe(t, "--from", filepath.Join(runs, "latest"))
	redisURL, redisLog := startServe(t, "--from", srv.URL(0), "--redis-prefix", prefix)

	rd, err := toplist.Open(filepath.Join(runs, "latest", "topk.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	n := 0
	var users []string
	for {
		l, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, l.User)
		for _, q := range []string{"", "?k=1", "?k=10", "?k=11"} {
			p := "/v1/users/" + url.PathEscape(l.User) + "/recommendations" + q
			a, b := httpBody(t, "GET", redisURL+p, ""), httpBody(t, "GET", memURL+p, "")
			if a != b {
				t.Fatalf("%s: from Redis %s\nfrom the run %s", p, a, b)
			}
			n++
		}
	}
	if len(users) != 200 {
		t.Errorf("%d users in the run's top-k, want 200", len(users))
	}
	body := fmt.Sprintf(`{"users":[%q,"nobody",%q],"k":3}`, users[0], users[len(users)-1])
	for _, tc := range [][2]string{{"GET", "/v1/users/nobody/recommendations"}, {"POST", "/v1/recommendations"}} {
		b := ""
		if tc[0] == "POST" {
			b = body
		}
		if a, m := httpBody(t, tc[0], redisURL+tc[1], b), httpBody(t, tc[0], memURL+tc[1], b); a != m {
			t.Errorf("%s %s: from Redis %s\nfrom the run %s", tc[0], tc[1], a, m)
		}
	}
	noSecrets(t, []string{srv.Password}, redisLog.String())
	t.Logf("%d requests answered alike", n+2)
}

// TestServeRedisWrongPassword: a refused password stops `recs serve`
// before it listens, with exit 4 and no password in the output.
func TestServeRedisWrongPassword(t *testing.T) {
	srv := emulator.Redis(t)
	const wrong = "wrong-serve-pass-91c3"
	t.Setenv("RECS_REDIS_PASSWORD", wrong)
	code, stdout, stderr := runArgs(t, "serve", "--from", srv.URL(0), "--addr", "127.0.0.1:0")
	if code != ExitService {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitService, stderr)
	}
	if strings.Contains(stderr, "listening") || !strings.Contains(stderr, "WRONGPASS") {
		t.Errorf("want a refusal before listening:\n%s", stderr)
	}
	noSecrets(t, []string{wrong, srv.Password}, stdout, stderr)
	// In the URL instead of the environment: the same.
	t.Setenv("RECS_REDIS_PASSWORD", "")
	code, stdout, stderr = runArgs(t, "serve", "--from", "redis://:"+wrong+"@"+srv.Addr+"/0", "--addr", "127.0.0.1:0")
	if code != ExitService {
		t.Fatalf("password in the URL: exit %d, want %d:\n%s", code, ExitService, stderr)
	}
	noSecrets(t, []string{wrong, srv.Password}, stdout, stderr)
}
