package cli

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/recs-dev/recs/internal/emulator"
)

// readmeBlock returns the commands of the README's "Commands, one worked
// example each" block: its first ```sh block, with backslash continuations
// joined and comments and blank lines dropped.
func readmeBlock(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "## Commands, one worked example each")
	if i < 0 {
		t.Fatal(`README.md has no "## Commands, one worked example each" section`)
	}
	text = text[i:]
	start := strings.Index(text, "```sh\n")
	end := strings.Index(text[start+6:], "```")
	if start < 0 || end < 0 {
		t.Fatal("README.md: no ```sh block in the commands section")
	}
	var cmds []string
	var cur string
	sc := bufio.NewScanner(strings.NewReader(text[start+6 : start+6+end]))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasSuffix(line, "\\") {
			cur += strings.TrimSuffix(line, "\\")
			continue
		}
		line = cur + line
		cur = ""
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cmds = append(cmds, line)
	}
	return cmds
}

// envAssign matches a leading VAR=value of a command line.
var envAssign = regexp.MustCompile(`^([A-Z_][A-Z0-9_]*)=(\S*)\s+`)

// TestREADMEExamples runs the README's worked examples in order, as
// written, so that none can break silently. Only what a test must change
// is changed: synth makes a smaller data set (the same preset cut to 300
// users), the server listens on a free port that the curl lines follow,
// and the Cosmos DB line gets the emulator's endpoint and key for the
// placeholders in its environment assignments, the Redis line the test
// redis-server's. curl is a small stand-in
// that fails on a status other than 2xx.
func TestREADMEExamples(t *testing.T) {
	cmds := readmeBlock(t)
	if len(cmds) < 10 {
		t.Fatalf("only %d commands found in the README block", len(cmds))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()

	var script strings.Builder
	var cosmos *emulator.CosmosServer
	var redis *emulator.RedisServer
	nbg := 0
	for _, c := range cmds {
		var envs []string
		for m := envAssign.FindStringSubmatch(c); m != nil; m = envAssign.FindStringSubmatch(c) {
			envs = append(envs, m[1])
			c = c[len(m[0]):]
		}
		bg := strings.HasSuffix(c, " &")
		c = strings.TrimSuffix(c, " &")
		for _, name := range envs {
			if cosmos == nil && strings.HasPrefix(name, "RECS_COSMOS_") {
				cosmos = emulator.Cosmos(t)
			}
			if redis == nil && strings.HasPrefix(name, "RECS_REDIS_") {
				redis = emulator.Redis(t)
			}
			switch name {
			case "RECS_COSMOS_ENDPOINT":
				fmt.Fprintf(&script, "env %s=%s\n", name, cosmos.Endpoint)
			case "RECS_COSMOS_KEY":
				fmt.Fprintf(&script, "env %s=%s\n", name, cosmos.Key)
			case "RECS_REDIS_URL":
				// A database of its own: other tests share the server.
				fmt.Fprintf(&script, "env %s=%s\n", name, redis.URL(7))
			case "RECS_REDIS_PASSWORD":
				fmt.Fprintf(&script, "env %s=%s\n", name, redis.Password)
			default:
				t.Fatalf("README line sets %s, which this test cannot provide: %s", name, c)
			}
		}
		switch {
		case strings.HasPrefix(c, "recs synth "):
			c += " --users 300 --items 400 --ratings 12000"
		case strings.HasPrefix(c, "recs serve "):
			c = strings.Replace(c, "--addr :8080", "--addr 127.0.0.1:"+port, 1)
		case strings.HasPrefix(c, "curl "):
			c = strings.ReplaceAll(c, "localhost:8080", "127.0.0.1:"+port)
		case !strings.HasPrefix(c, "recs "):
			t.Fatalf("README example is neither recs nor curl: %s", c)
		}
		if strings.HasPrefix(c, "recs ") {
			c = "exec " + c
		}
		if bg {
			c += " &bg" + fmt.Sprint(nbg) + "&"
			nbg++
		}
		fmt.Fprintf(&script, "%s\n", c)
		for _, name := range envs {
			fmt.Fprintf(&script, "env %s=\n", name)
		}
	}
	for i := 0; i < nbg; i++ {
		fmt.Fprintf(&script, "kill bg%d\n", i)
	}
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/readme.txtar", []byte(script.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("script:\n%s", script.String())
	testscript.Run(t, testscript.Params{
		Dir: dir,
		Setup: func(e *testscript.Env) error {
			e.Setenv("RECS_LOG_FORMAT", "text")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"curl": curlCmd},
	})
}

// curlCmd is the part of curl the README uses: curl URL [-H 'K: V'] [-d
// BODY] (POST with a body). It retries a refused connection for up to 20 s
// (the server loads its lists first) and fails on a status other than 2xx;
// the body goes to stdout.
func curlCmd(ts *testscript.TestScript, neg bool, args []string) {
	var url, body string
	hdr := http.Header{}
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-H":
			i++
			k, v, _ := strings.Cut(args[i], ":")
			hdr.Set(strings.TrimSpace(k), strings.TrimSpace(v))
		case "-d":
			i++
			body = args[i]
		case "-s":
		default:
			url = args[i]
		}
	}
	if !strings.Contains(url, "://") {
		url = "http://" + url
	}
	method := http.MethodGet
	if body != "" {
		method = http.MethodPost
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		ts.Check(err)
		req.Header = hdr
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			if time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			ts.Fatalf("curl %s: %v", url, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond) // still loading
			continue
		}
		ts.Stdout().Write(b)
		if ok := resp.StatusCode/100 == 2; ok == neg {
			ts.Fatalf("curl %s: %s %s", url, resp.Status, b)
		}
		return
	}
}
