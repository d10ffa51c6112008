package emulator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recs-dev/recs/internal/testenv"
)

// Well-known emulator credentials (published by Microsoft; not secrets).
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
	CosmosKey      = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
)

// StartTimeout bounds how long an emulator may take to print its ready line.
var StartTimeout = 60 * time.Second

// AzuriteServer is a running Azurite Blob service.
type AzuriteServer struct {
	// ServiceURL is the account's Blob endpoint, path style:
	// http://127.0.0.1:PORT/devstoreaccount1
	ServiceURL string
	Account    string
	Key        string
}

// ConnectionString returns a storage connection string for the emulator.
func (s *AzuriteServer) ConnectionString() string {
	return "DefaultEndpointsProtocol=http;AccountName=" + s.Account + ";AccountKey=" + s.Key +
		";BlobEndpoint=" + s.ServiceURL + ";"
}

// CosmosServer is a running cosmosdb-server.
type CosmosServer struct {
	Endpoint string // http://127.0.0.1:PORT/
	Key      string
}

type proc struct {
	once  sync.Once
	err   error
	url   string
	stdin io.WriteCloser // held open for the life of the test binary
	cmd   *exec.Cmd
}

var azurite, cosmos proc

var (
	azuriteReady = regexp.MustCompile(`listens on (http://127\.0\.0\.1:\d+)`)
	cosmosReady  = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
)

// Azurite returns the shared Azurite server, starting it on first use.
func Azurite(t testing.TB) *AzuriteServer {
	t.Helper()
	url := start(t, &azurite, "azurite.js", azuriteReady)
	return &AzuriteServer{ServiceURL: url + "/" + AzuriteAccount, Account: AzuriteAccount, Key: AzuriteKey}
}

// Cosmos returns the shared cosmosdb-server, starting it on first use.
func Cosmos(t testing.TB) *CosmosServer {
	t.Helper()
	url := start(t, &cosmos, "cosmos.js", cosmosReady)
	return &CosmosServer{Endpoint: url + "/", Key: CosmosKey}
}

// ErrNotInstalled says the emulators are not installed.
var ErrNotInstalled = errors.New("emulators not installed: run `make emulator-deps` (needs Node.js and npm)")

func start(t testing.TB, p *proc, script string, ready *regexp.Regexp) string {
	t.Helper()
	p.once.Do(func() { p.url, p.err = launch(p, script, ready) })
	if p.err != nil {
		if errors.Is(p.err, ErrNotInstalled) {
			testenv.Missing(t, "%v", p.err)
		}
		t.Fatalf("emulator %s: %v", script, p.err)
	}
	return p.url
}

// Dir returns testdata/emulators of the recs module, found by walking up
// from the working directory (tests run in their package directory), or
// $RECS_EMULATORS_DIR when set.
func Dir() (string, error) {
	if d := os.Getenv("RECS_EMULATORS_DIR"); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/recs-dev/recs\n") {
			return filepath.Join(d, "testdata", "emulators"), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no recs go.mod above %s", wd)
		}
	}
}

func launch(p *proc, script string, ready *regexp.Regexp) (string, error) {
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		return "", fmt.Errorf("%w (%s/node_modules missing)", ErrNotInstalled, dir)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("%w (node not on PATH)", ErrNotInstalled)
	}
	cmd := exec.Command(node, script, "0")
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	var stderr tail
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", err
	}
	p.stdin, p.cmd = stdin, cmd
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			if !sent {
				if m := ready.FindStringSubmatch(sc.Text()); m != nil {
					found <- m[1]
					sent = true
				}
			}
		}
		if !sent {
			close(found)
		}
		// Keep draining so the emulator never blocks on a full pipe.
		io.Copy(io.Discard, stdout)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	select {
	case url, ok := <-found:
		if !ok {
			cmd.Wait()
			return "", fmt.Errorf("%s exited before it was ready: %s", script, stderr.String())
		}
		return url, nil
	case <-ctx.Done():
		cmd.Process.Kill()
		cmd.Wait()
		return "", fmt.Errorf("%s not ready after %v: %s", script, StartTimeout, stderr.String())
	}
}

// Stop stops the emulators this process started. Tests need not call it:
// the emulators exit with the test binary. It is for TestMain functions and
// benchmarks that want them gone earlier.
func Stop() {
	stopRedis()
	for _, p := range []*proc{&azurite, &cosmos} {
		if p.cmd != nil && p.stdin != nil {
			p.stdin.Close()
			done := make(chan struct{})
			go func() { p.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				p.cmd.Process.Kill()
			}
			p.stdin = nil
		}
	}
}

// tail keeps the last few KB written to it (the emulator's stderr, for
// error messages).
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > 4096 {
		t.buf = t.buf[len(t.buf)-4096:]
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
