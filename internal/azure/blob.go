package azure

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// Environment variables read by OpenContainer.
const (
	EnvConnectionString = "AZURE_STORAGE_CONNECTION_STRING"
	EnvAccountKey       = "AZURE_STORAGE_KEY"
)

// BlobLocation says which container to open and how to authenticate.
type BlobLocation struct {
	// URL is https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX] with an
	// optional SAS query (?sv=…&sig=…); for an emulator, the path-style
	// http://127.0.0.1:PORT/ACCOUNT/CONTAINER[/PREFIX]. Either URL or
	// Container is set.
	URL string
	// Container names a container of the account in ConnectionString.
	Container string
	// ConnectionString is a storage connection string (AccountKey or
	// SharedAccessSignature); used with Container.
	ConnectionString string
	// AccountKey authenticates a URL without SAS by shared key. When it is
	// empty too, Azure AD is used (azidentity.DefaultAzureCredential:
	// environment, workload or managed identity, Azure CLI).
	AccountKey string
	// Retry configures the SDK's retries; zero fields take the defaults of
	// DefaultRetry.
	Retry policy.RetryOptions
	// Counts, if set, receives the number of calls, attempts and 429s.
	Counts *Counts
}

// DefaultRetry are the SDK retry settings used for Blob Storage: up to 5
// retries of 408/429/500/502/503/504 and connection errors, exponential
// backoff from 0.5 s to 30 s with jitter, honouring Retry-After.
var DefaultRetry = policy.RetryOptions{MaxRetries: 5, RetryDelay: 500 * time.Millisecond, MaxRetryDelay: 30 * time.Second}

// Credentials are the account-wide Blob Storage secrets a location falls
// back on when it carries none: a connection string (for a Container
// location) and an account key (for a URL without a SAS). The command
// line reads them from $AZURE_STORAGE_CONNECTION_STRING and
// $AZURE_STORAGE_KEY (EnvConnectionString, EnvAccountKey) and sets them
// once with SetDefaultCredentials; no library code reads the environment.
type Credentials struct {
	ConnectionString string
	AccountKey       string
}

var defaultCredentials atomic.Pointer[Credentials]

// SetDefaultCredentials sets the credentials WithDefaults falls back on.
func SetDefaultCredentials(c Credentials) { defaultCredentials.Store(&c) }

// WithDefaults fills AccountKey and, for a Container location,
// ConnectionString from the default credentials when they are empty.
func (l BlobLocation) WithDefaults() BlobLocation {
	c := defaultCredentials.Load()
	if c == nil {
		return l
	}
	if l.URL == "" && l.ConnectionString == "" {
		l.ConnectionString = c.ConnectionString
	}
	if l.URL != "" && l.AccountKey == "" {
		l.AccountKey = c.AccountKey
	}
	return l
}

// Secrets returns the secret strings of l, for Scrub.
func (l BlobLocation) Secrets() []string {
	s := []string{l.AccountKey, l.ConnectionString}
	if u, err := url.Parse(l.URL); err == nil && u.RawQuery != "" {
		s = append(s, u.RawQuery)
		for _, vs := range u.Query() {
			s = append(s, vs...)
		}
	}
	for _, part := range strings.Split(l.ConnectionString, ";") {
		if k, v, ok := strings.Cut(part, "="); ok && (strings.EqualFold(k, "AccountKey") || strings.EqualFold(k, "SharedAccessSignature")) {
			s = append(s, v)
		}
	}
	return s
}

// OpenContainer returns a client of the container l names and the blob
// name prefix from its URL path ("" when none; otherwise ending in "/").
// Errors never contain the key, connection string or SAS.
func OpenContainer(l BlobLocation) (*container.Client, string, error) {
	c, prefix, err := openContainer(l)
	return c, prefix, Scrub(err, l.Secrets()...)
}

func openContainer(l BlobLocation) (*container.Client, string, error) {
	opts := &container.ClientOptions{ClientOptions: azcore.ClientOptions{Retry: withDefaults(l.Retry)}}
	if l.Counts != nil {
		opts.PerCallPolicies = []policy.Policy{callPolicy{l.Counts}}
		opts.PerRetryPolicies = []policy.Policy{attemptPolicy{l.Counts}}
	}
	switch {
	case l.URL != "" && l.Container != "":
		return nil, "", errors.New("give a Blob URL or a container name, not both")
	case l.URL == "" && l.Container == "":
		return nil, "", errors.New("no Blob URL and no container name")
	case l.Container != "":
		if l.ConnectionString == "" {
			return nil, "", fmt.Errorf("a container name needs a connection string ($%s)", EnvConnectionString)
		}
		c, err := container.NewClientFromConnectionString(l.ConnectionString, l.Container, opts)
		if err != nil {
			return nil, "", fmt.Errorf("connection string: %v", err)
		}
		return c, "", nil
	}
	parts, err := blob.ParseURL(l.URL)
	if err != nil {
		return nil, "", fmt.Errorf("blob URL: %v", err)
	}
	if parts.Scheme != "https" && parts.Scheme != "http" {
		return nil, "", fmt.Errorf("blob URL must start with https:// (or http:// for an emulator)")
	}
	if parts.ContainerName == "" {
		return nil, "", errors.New("blob URL names no container (want https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX])")
	}
	prefix := strings.Trim(parts.BlobName, "/")
	if prefix != "" {
		prefix += "/"
	}
	hasSAS := parts.SAS.Signature() != ""
	parts.BlobName = ""
	containerURL := parts.String()
	switch {
	case hasSAS:
		c, err := container.NewClientWithNoCredential(containerURL, opts)
		return c, prefix, err
	case l.AccountKey != "":
		account := parts.IPEndpointStyleInfo.AccountName
		if account == "" {
			account, _, _ = strings.Cut(parts.Host, ".")
		}
		cred, err := container.NewSharedKeyCredential(account, l.AccountKey)
		if err != nil {
			return nil, "", fmt.Errorf("account key: %v", err)
		}
		c, err := container.NewClientWithSharedKeyCredential(containerURL, cred, opts)
		return c, prefix, err
	}
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return nil, "", fmt.Errorf("no SAS in the URL, no $%s, and Azure AD: %v", EnvAccountKey, err)
	}
	c, err := container.NewClient(containerURL, cred, opts)
	return c, prefix, err
}

func withDefaults(r policy.RetryOptions) policy.RetryOptions {
	d := DefaultRetry
	if r.MaxRetries != 0 {
		d.MaxRetries = r.MaxRetries
	}
	if r.RetryDelay != 0 {
		d.RetryDelay = r.RetryDelay
	}
	if r.MaxRetryDelay != 0 {
		d.MaxRetryDelay = r.MaxRetryDelay
	}
	if r.TryTimeout != 0 {
		d.TryTimeout = r.TryTimeout
	}
	d.StatusCodes, d.ShouldRetry = r.StatusCodes, r.ShouldRetry
	return d
}
