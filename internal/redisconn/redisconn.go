package redisconn

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/redis/go-redis/v9"
)

// Auth is how a client authenticates.
type Auth string

const (
	// AuthAuto: a password when one is given (Config.Password or the
	// URL's), else Entra ID for an Azure host (IsAzureHost), else none.
	AuthAuto Auth = "auto"
	// AuthPassword: Config.Password, else the URL's password; with the
	// URL's user name, if any, as the ACL user.
	AuthPassword Auth = "password"
	// AuthEntra: a Microsoft Entra ID token for EntraScope as the
	// password, and the identity's object id (or the URL's user name) as
	// the user name; refreshed before it expires.
	AuthEntra Auth = "entra"
	// AuthNone: no AUTH at all.
	AuthNone Auth = "none"
)

// ParseAuth returns the Auth named s ("" is AuthAuto).
func ParseAuth(s string) (Auth, error) {
	switch a := Auth(s); a {
	case "":
		return AuthAuto, nil
	case AuthAuto, AuthPassword, AuthEntra, AuthNone:
		return a, nil
	}
	return "", fmt.Errorf("redis auth %q: want auto, password, entra or none", s)
}

// Config says which server to reach and how to authenticate.
type Config struct {
	// URL is redis://[USER[:PASSWORD]@]HOST[:PORT][/DB] or rediss:// for
	// TLS (Azure Cache for Redis listens with TLS on 6380, Azure Managed
	// Redis on 10000). Query options of go-redis (dial_timeout, …) apply.
	URL string
	// Password, when not empty, replaces the URL's password; it comes from
	// the environment so that it is never on a command line.
	Password string
	Auth     Auth // "": AuthAuto
	// Credential is the Entra ID credential (nil: DefaultAzureCredential:
	// environment, workload identity, managed identity, Azure CLI).
	Credential azcore.TokenCredential
	// PoolSize is the most connections kept (0: go-redis's default, ten
	// per CPU).
	PoolSize int
	Log      *slog.Logger // token refresh failures; nil: discarded
}

// Client is a go-redis client that knows how to describe itself without
// secrets and stops its token refresher when closed.
type Client struct {
	*redis.Client
	desc    string
	secrets []string
	entra   *EntraProvider
}

// Open returns a client for cfg. It does not connect: the first command
// does (see Ping). Errors never contain the URL's password or cfg.Password.
func Open(cfg Config) (*Client, error) {
	desc, err := Describe(cfg.URL)
	if err != nil {
		return nil, err
	}
	secrets := []string{cfg.Password}
	if u, _ := url.Parse(cfg.URL); u != nil {
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p, url.QueryEscape(p), url.PathEscape(p))
		}
	}
	opt, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("redis URL %s: %v", desc, scrub(err.Error(), secrets))
	}
	mode := cfg.Auth
	if mode == "" {
		mode = AuthAuto
	}
	if mode == AuthAuto {
		host, _, _ := net.SplitHostPort(opt.Addr)
		switch {
		case cfg.Password != "" || opt.Password != "":
			mode = AuthPassword
		case IsAzureHost(host):
			mode = AuthEntra
		default:
			mode = AuthNone
		}
	}
	c := &Client{desc: desc + " (auth: " + string(mode) + ")", secrets: secrets}
	switch mode {
	case AuthPassword:
		if cfg.Password != "" {
			opt.Password = cfg.Password
		}
		if opt.Password == "" {
			return nil, fmt.Errorf("redis %s: no password: set $RECS_REDIS_PASSWORD", desc)
		}
	case AuthNone:
		opt.Username, opt.Password = "", ""
	case AuthEntra:
		cred := cfg.Credential
		if cred == nil {
			dc, err := azidentity.NewDefaultAzureCredential(nil)
			if err != nil {
				return nil, fmt.Errorf("redis %s: no Entra ID credential: %v", desc, err)
			}
			cred = dc
		}
		if opt.TLSConfig == nil {
			cfg.logger().Warn("Entra ID tokens are sent as passwords: use rediss:// (TLS) outside tests", "redis", desc)
		}
		c.entra = &EntraProvider{Credential: cred, Username: opt.Username, Log: cfg.Log}
		opt.Username, opt.Password = "", ""
		opt.StreamingCredentialsProvider = c.entra
	default:
		return nil, fmt.Errorf("redis auth %q: want auto, password, entra or none", mode)
	}
	routeLibraryLog(cfg.Log, append(secrets, opt.Password), c.entra)
	if cfg.PoolSize > 0 {
		opt.PoolSize = cfg.PoolSize
	}
	c.Client = redis.NewClient(opt)
	return c, nil
}

func (cfg Config) logger() *slog.Logger {
	if cfg.Log != nil {
		return cfg.Log
	}
	return slog.New(slog.DiscardHandler)
}

// String describes the server without secrets:
// redis://HOST:PORT/DB (auth: password).
func (c *Client) String() string { return c.desc }

// Scrub returns err with the client's passwords removed from its message.
// Redis servers do not echo passwords, but a proxy or a future library
// might; every error leaving recs goes through here.
func (c *Client) Scrub(err error) error {
	if err == nil {
		return nil
	}
	ss := c.secrets
	if c.entra != nil {
		ss = append(ss[:len(ss):len(ss)], c.entra.tokens()...)
	}
	msg := scrub(err.Error(), ss)
	if msg == err.Error() {
		return err
	}
	return &scrubbed{msg: msg, err: err}
}

// Close closes the connections and stops refreshing tokens.
func (c *Client) Close() error {
	if c.entra != nil {
		c.entra.Close()
	}
	return c.Client.Close()
}

type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }

func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "REDACTED")
		}
	}
	return s
}

// Describe returns the URL without user information or query, as
// scheme://host:port/db, or an error that does not repeat the URL (it may
// hold a password).
func Describe(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("the Redis URL does not parse as a URL: want redis://HOST:PORT/DB or rediss://HOST:6380/DB")
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return "", fmt.Errorf("Redis URL scheme %q: want redis:// or rediss:// (TLS)", u.Scheme)
	}
	if u.Host == "" {
		return "", errors.New("the Redis URL has no host: want redis://HOST:PORT/DB or rediss://HOST:6380/DB")
	}
	port := u.Port()
	if port == "" {
		port = "6379"
	}
	db := strings.Trim(u.Path, "/")
	if db == "" {
		db = "0"
	}
	return u.Scheme + "://" + joinHostPort(u.Hostname(), port) + "/" + db, nil
}

func joinHostPort(h, p string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]:" + p
	}
	return h + ":" + p
}

// IsAzureHost reports whether host is an Azure Cache for Redis or Azure
// Managed Redis endpoint, in any Azure cloud.
func IsAzureHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, s := range []string{".redis.cache.windows.net", ".redis.azure.net", ".redis.cache.chinacloudapi.cn",
		".redis.cache.usgovcloudapi.net", ".redisenterprise.cache.azure.net"} {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}
