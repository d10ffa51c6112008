package emulator

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// RedisServer is a running redis-server on 127.0.0.1 that requires a
// password (the default user's; ACL users may be added by tests).
type RedisServer struct {
	Addr     string // 127.0.0.1:PORT
	Password string // random per test binary: tests check it never shows
}

// URL returns redis://127.0.0.1:PORT/db, without the password.
func (s *RedisServer) URL(db int) string {
	return "redis://" + s.Addr + "/" + strconv.Itoa(db)
}

// ErrRedisNotInstalled says redis-server is not on PATH.
var ErrRedisNotInstalled = errors.New("redis-server not installed: run `make test-deps` (Debian's redis-server package)")

var redisProc struct {
	once   sync.Once
	srv    *RedisServer
	err    error
	stdin  io.WriteCloser
	exited chan struct{}
}

// Redis returns the shared redis-server, starting it on first use. Without
// redis-server on PATH the test is skipped, unless CI is set: then it fails.
func Redis(t testing.TB) *RedisServer {
	t.Helper()
	redisProc.once.Do(func() {
		for attempt := 0; attempt < 3; attempt++ {
			redisProc.srv, redisProc.err = launchRedis()
			if redisProc.err == nil || errors.Is(redisProc.err, ErrRedisNotInstalled) {
				break
			}
		}
	})
	if err := redisProc.err; err != nil {
		if errors.Is(err, ErrRedisNotInstalled) && os.Getenv("CI") == "" {
			t.Skipf("%v (set CI=1 to make this a failure)", err)
		}
		t.Fatalf("redis-server: %v", err)
	}
	return redisProc.srv
}

// launchRedis starts redis-server on a free port of 127.0.0.1, keeping
// nothing on disk. It runs under sh, whose stdin is a pipe held by the
// test binary: when the binary exits, however it exits, the pipe closes,
// cat returns and the shell's EXIT trap stops redis-server.
func launchRedis() (*RedisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrRedisNotInstalled
	}
	// A free port: bind, note, release. Another process may take it in
	// between; then redis-server fails to bind and the caller tries again.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	var pw [16]byte
	rand.Read(pw[:])
	password := hex.EncodeToString(pw[:])
	dir, err := os.MkdirTemp("", "recs-redis-*")
	if err != nil {
		return nil, err
	}
	args := []string{"-c", `"$0" "$@" & p=$!; trap 'kill $p 2>/dev/null; wait $p; rm -rf "$RECS_REDIS_DIR"' EXIT; cat >/dev/null`,
		bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no",
		"--dir", dir, "--protected-mode", "yes", "--loglevel", "notice", "--daemonize", "no"}
	// The password is set with CONFIG SET once the server is up, so that
	// it is never on a command line (ps shows those).
	cmd := exec.Command("sh", args...)
	cmd.Env = append(os.Environ(), "RECS_REDIS_DIR="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr tail
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var log tail
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			log.Write(append(sc.Bytes(), '\n'))
			if !sent && strings.Contains(sc.Text(), "Ready to accept connections") {
				close(ready)
				sent = true
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	select {
	case <-ready:
	case <-exited:
		return nil, fmt.Errorf("redis-server exited before it was ready: %s %s", log.String(), stderr.String())
	case <-ctx.Done():
		stdin.Close()
		<-exited
		return nil, fmt.Errorf("redis-server not ready after %v: %s", StartTimeout, log.String())
	}
	if err := setPassword("127.0.0.1:"+strconv.Itoa(port), password); err != nil {
		stdin.Close()
		<-exited
		return nil, err
	}
	redisProc.stdin, redisProc.exited = stdin, exited
	return &RedisServer{Addr: "127.0.0.1:" + strconv.Itoa(port), Password: password}, nil
}

// setPassword sets the default user's password with CONFIG SET
// requirepass, speaking RESP directly (this package does not depend on a
// client), so that the password is never on a command line.
func setPassword(addr, password string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	cmd := []string{"CONFIG", "SET", "requirepass", password}
	msg := "*" + strconv.Itoa(len(cmd)) + "\r\n"
	for _, a := range cmd {
		msg += "$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n"
	}
	if _, err := io.WriteString(c, msg); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+OK\r\n" {
		return fmt.Errorf("redis-server: CONFIG SET requirepass answered %q", line)
	}
	return nil
}

// stopRedis stops the redis-server this process started, if any.
func stopRedis() {
	if redisProc.stdin != nil {
		redisProc.stdin.Close()
		select {
		case <-redisProc.exited:
		case <-time.After(10 * time.Second):
		}
		redisProc.stdin = nil
	}
}
