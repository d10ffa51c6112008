package redisconn

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/redis/go-redis/v9/auth"
)

// EntraScope is the scope of Entra ID tokens for Azure Cache for Redis and
// Azure Managed Redis.
const EntraScope = "https://redis.azure.com/.default"

// EntraProvider gives go-redis an Entra ID access token as the password and
// the identity's object id as the user name, and refreshes the token before
// it expires: when RefreshRatio of its lifetime has passed it asks the
// credential for a new one and hands it to every connection, which
// re-authenticates with AUTH (go-redis's streaming credentials). A refresh
// that fails is retried with backoff until the token expires; only then are
// the connections told of the error.
//
// This is the pattern of the Azure documentation ("Use Microsoft Entra for
// cache authentication"): user name = object id of the managed identity or
// service principal, password = token, re-authenticate before expiry.
type EntraProvider struct {
	Credential azcore.TokenCredential
	// Username overrides the object id read from the token's oid claim.
	Username string
	// RefreshRatio is the part of a token's lifetime after which it is
	// refreshed (0: 0.7).
	RefreshRatio float64
	Log          *slog.Logger

	// after and now are time.After and time.Now, replaced by tests.
	after func(time.Duration) <-chan time.Time
	now   func() time.Time

	mu        sync.Mutex
	creds     auth.Credentials
	token     string
	obtained  time.Time
	expires   time.Time
	old       []string // earlier tokens, for Scrub
	listeners map[auth.CredentialsListener]struct{}
	running   bool
	done      chan struct{}
	closeOnce sync.Once
}

var _ auth.StreamingCredentialsProvider = (*EntraProvider)(nil)

func (p *EntraProvider) init() {
	if p.after == nil {
		p.after = time.After
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.listeners == nil {
		p.listeners = map[auth.CredentialsListener]struct{}{}
	}
	if p.done == nil {
		p.done = make(chan struct{})
	}
}

// Subscribe implements auth.StreamingCredentialsProvider: it returns the
// current credentials (fetching the first token) and registers l for new
// ones. Subscribing a listener twice registers it once.
func (p *EntraProvider) Subscribe(l auth.CredentialsListener) (auth.Credentials, auth.UnsubscribeFunc, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	if p.creds == nil || !p.now().Before(p.expires) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := p.fetchLocked(ctx)
		cancel()
		if err != nil {
			return nil, nil, err
		}
	}
	if !p.running {
		p.running = true
		go p.refresh()
	}
	p.listeners[l] = struct{}{}
	return p.creds, func() error {
		p.mu.Lock()
		delete(p.listeners, l)
		p.mu.Unlock()
		return nil
	}, nil
}

// fetchLocked gets a token and makes it current. p.mu is held.
func (p *EntraProvider) fetchLocked(ctx context.Context) error {
	tok, err := p.Credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{EntraScope}})
	if err != nil {
		return fmt.Errorf("Entra ID token for Redis: %w", err)
	}
	user := p.Username
	if user == "" {
		if user, err = ObjectID(tok.Token); err != nil {
			return fmt.Errorf("Entra ID token for Redis: %w (give the object id as the URL's user name: rediss://OBJECT_ID@HOST:6380)", err)
		}
	}
	if p.token != "" {
		p.old = append(p.old, p.token)
		if len(p.old) > 4 {
			p.old = p.old[1:]
		}
	}
	p.token, p.obtained, p.expires = tok.Token, p.now(), tok.ExpiresOn
	p.creds = auth.NewBasicCredentials(user, tok.Token)
	return nil
}

// refresh runs until Close: it renews the token when RefreshRatio of its
// lifetime has passed and tells every listener.
func (p *EntraProvider) refresh() {
	ratio := p.RefreshRatio
	if ratio <= 0 || ratio >= 1 {
		ratio = 0.7
	}
	log := p.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	failures := 0
	for {
		p.mu.Lock()
		life := p.expires.Sub(p.obtained)
		wait := p.obtained.Add(time.Duration(float64(life) * ratio)).Sub(p.now())
		if failures > 0 {
			// Retry sooner, but not in a busy loop: half the time left,
			// between 1 s and 1 min.
			wait = min(max(p.expires.Sub(p.now())/2, time.Second), time.Minute)
		}
		p.mu.Unlock()
		select {
		case <-p.done:
			return
		case <-p.after(max(wait, 0)):
		}
		p.mu.Lock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := p.fetchLocked(ctx)
		cancel()
		creds, expired := p.creds, !p.now().Before(p.expires)
		ls := make([]auth.CredentialsListener, 0, len(p.listeners))
		for l := range p.listeners {
			ls = append(ls, l)
		}
		p.mu.Unlock()
		if err != nil {
			failures++
			log.Warn("cannot refresh the Entra ID token for Redis; will retry", "err", p.scrub(err), "expired", expired)
			if expired {
				for _, l := range ls {
					l.OnError(err)
				}
			}
			continue
		}
		failures = 0
		for _, l := range ls {
			l.OnNext(creds)
		}
	}
}

// Close stops the refresher.
func (p *EntraProvider) Close() {
	p.mu.Lock()
	p.init()
	p.mu.Unlock()
	p.closeOnce.Do(func() { close(p.done) })
}

// tokens returns the tokens handed out (the current and a few earlier).
func (p *EntraProvider) tokens() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append(append([]string(nil), p.old...), p.token)
}

func (p *EntraProvider) scrub(err error) string { return scrub(err.Error(), p.tokens()) }

// ObjectID returns the oid claim of a JWT access token (the object id of
// the identity it was issued to). The signature is not checked: the token
// came from Entra ID and is only read, never trusted, here.
func ObjectID(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("the token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", errors.New("the token's payload is not base64url")
	}
	var claims struct {
		OID string `json:"oid"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", errors.New("the token's payload is not JSON")
	}
	if claims.OID == "" {
		return "", errors.New("the token has no oid (object id) claim")
	}
	return claims.OID, nil
}
