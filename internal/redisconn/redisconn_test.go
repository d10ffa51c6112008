package redisconn

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/redis/go-redis/v9"

	"github.com/recs-dev/recs/internal/emulator"
)

// jwt returns an unsigned JWT whose payload is claims.
func jwt(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(claims)) + ".c2ln"
}

func TestObjectID(t *testing.T) {
	for _, tc := range []struct {
		token, want, err string
	}{
		{jwt(`{"oid":"0b5c9a1e-1111-2222-3333-444455556666","aud":"https://redis.azure.com"}`), "0b5c9a1e-1111-2222-3333-444455556666", ""},
		{jwt(`{"aud":"x"}`), "", "no oid"},
		{jwt(`not json`), "", "not JSON"},
		{"abc.def", "", "not a JWT"},
		{"a.!!!.c", "", "not base64url"},
	} {
		got, err := ObjectID(tc.token)
		if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ObjectID(%.30q) = %q, %v; want %q, error containing %q", tc.token, got, err, tc.want, tc.err)
		}
	}
}

func TestDescribeHidesSecrets(t *testing.T) {
	for _, tc := range []struct {
		url, want, err string
	}{
		{"redis://:pa55word@127.0.0.1:6379/2", "redis://127.0.0.1:6379/2", ""},
		{"rediss://user:pa55word@cache.redis.cache.windows.net:6380", "rediss://cache.redis.cache.windows.net:6380/0", ""},
		{"rediss://cache.redis.cache.windows.net", "rediss://cache.redis.cache.windows.net:6379/0", ""},
		{"redis://[::1]:7000/0", "redis://[::1]:7000/0", ""},
		{"http://:pa55word@host/", "", "scheme"},
		{"redis://:pa55word@host:bad port/", "", "does not parse"},
		{"redis:///0", "", "no host"},
	} {
		got, err := Describe(tc.url)
		if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Describe(%q) = %q, %v; want %q, error with %q", tc.url, got, err, tc.want, tc.err)
		}
		if err != nil && strings.Contains(err.Error(), "pa55word") {
			t.Errorf("Describe(%q): the error repeats the password: %v", tc.url, err)
		}
	}
}

// fakeCredential hands out JWTs with the oid of its users, in turn (the
// last one repeats), each valid for life; before returning a token it
// makes it a password of its user on the server (admin), as Entra ID and
// the cache's access policy do together.
type fakeCredential struct {
	admin *redis.Client
	users []string
	life  time.Duration
	fail  error

	mu     sync.Mutex
	issued []string
}

func (f *fakeCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return azcore.AccessToken{}, f.fail
	}
	if len(opts.Scopes) != 1 || opts.Scopes[0] != EntraScope {
		return azcore.AccessToken{}, fmt.Errorf("scopes %v, want [%s]", opts.Scopes, EntraScope)
	}
	user := f.users[min(len(f.issued), len(f.users)-1)]
	exp := time.Now().Add(f.life)
	tok := jwt(fmt.Sprintf(`{"oid":%q,"exp":%d,"n":%d}`, user, exp.Unix(), len(f.issued)))
	if err := f.admin.Do(ctx, "ACL", "SETUSER", user, "on", ">"+tok, "~*", "+@all").Err(); err != nil {
		return azcore.AccessToken{}, err
	}
	f.issued = append(f.issued, tok)
	return azcore.AccessToken{Token: tok, ExpiresOn: exp}, nil
}

// TestEntraTokenAuthAndRefresh: the client authenticates as the token's
// object id with the token as password, the refresh is scheduled at 70% of
// the token's life, and a refreshed token re-authenticates the open
// connection (seen as a change of ACL user on that connection: the fake
// issues the second token to another object id).
func TestEntraTokenAuthAndRefresh(t *testing.T) {
	srv := emulator.Redis(t)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr, Password: srv.Password})
	defer admin.Close()
	suffix := fmt.Sprint(time.Now().UnixNano())
	users := []string{"oid-a-" + suffix, "oid-b-" + suffix}
	defer admin.Do(ctx, "ACL", "DELUSER", users[0], users[1])
	cred := &fakeCredential{admin: admin, users: users, life: time.Hour}

	waits := make(chan time.Duration, 4)
	fire := make(chan time.Time)
	p := &EntraProvider{Credential: cred, after: func(d time.Duration) <-chan time.Time { waits <- d; return fire }}
	defer p.Close()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, StreamingCredentialsProvider: p, PoolSize: 1})
	defer c.Close()

	if who, err := c.Do(ctx, "ACL", "WHOAMI").Text(); err != nil || who != users[0] {
		t.Fatalf("ACL WHOAMI = %q, %v; want %q", who, err, users[0])
	}
	// 70% of one hour, less the moments between issue and scheduling.
	if d := <-waits; d > 42*time.Minute || d < 42*time.Minute-10*time.Second {
		t.Errorf("refresh scheduled after %v, want 42m (0.7 × 1h)", d)
	}
	fire <- time.Now()
	deadline := time.Now().Add(20 * time.Second)
	for {
		who, err := c.Do(ctx, "ACL", "WHOAMI").Text()
		if err == nil && who == users[1] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the refresh the connection is still %q (%v); want re-authenticated as %q", who, err, users[1])
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(cred.issued); n != 2 {
		t.Errorf("%d tokens issued, want 2", n)
	}
}

func TestOpenChoosesAuth(t *testing.T) {
	cred := &fakeCredential{fail: errors.New("no token here")}
	for _, tc := range []struct {
		url, password string
		auth          Auth
		want          string
	}{
		{"redis://127.0.0.1:6379", "", AuthAuto, "auth: none"},
		{"redis://127.0.0.1:6379", "pw", AuthAuto, "auth: password"},
		{"redis://:pw@127.0.0.1:6379", "", AuthAuto, "auth: password"},
		{"rediss://c.redis.cache.windows.net:6380", "", AuthAuto, "auth: entra"},
		{"rediss://c.westeurope.redis.azure.net:10000", "", AuthAuto, "auth: entra"},
		{"rediss://c.redis.cache.windows.net:6380", "pw", AuthAuto, "auth: password"},
		{"redis://127.0.0.1:6379", "", AuthEntra, "auth: entra"},
	} {
		c, err := Open(Config{URL: tc.url, Password: tc.password, Auth: tc.auth, Credential: cred})
		if err != nil {
			t.Errorf("Open(%q): %v", tc.url, err)
			continue
		}
		if !strings.HasSuffix(c.String(), "("+tc.want+")") || strings.Contains(c.String(), "pw") {
			t.Errorf("Open(%q, password %q, %s) = %s, want %s and no password", tc.url, tc.password, tc.auth, c, tc.want)
		}
		c.Close()
	}
	if _, err := Open(Config{URL: "redis://127.0.0.1:6379", Auth: AuthPassword}); err == nil || !strings.Contains(err.Error(), "RECS_REDIS_PASSWORD") {
		t.Errorf("password auth without a password: %v", err)
	}
	// An Entra credential that fails: the first command says so.
	srv := emulator.Redis(t)
	c, _ := Open(Config{URL: "redis://" + srv.Addr + "/0", Auth: AuthEntra, Credential: cred})
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err == nil || !strings.Contains(err.Error(), "no token here") {
		t.Errorf("ping with a failing credential: %v", err)
	}
}
