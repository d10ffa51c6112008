package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/recs-dev/recs/internal/azure"
	"github.com/recs-dev/recs/internal/errs"
)

// BlobOptions says how OpenBlob reaches Blob Storage. The zero value reads
// credentials from the environment.
type BlobOptions struct {
	// Container, when set, names a container of the account in
	// ConnectionString; the location passed to OpenBlob is then the blob's
	// name in it, not a URL.
	Container string
	// ConnectionString is a storage connection string; empty:
	// $AZURE_STORAGE_CONNECTION_STRING (used only with Container).
	ConnectionString string
	// AccountKey authenticates a URL without SAS; empty: $AZURE_STORAGE_KEY,
	// and without that Azure AD (azidentity.DefaultAzureCredential).
	AccountKey string
	// Retry configures the SDK's retries of each request (zero fields:
	// azure.DefaultRetry); ReadRetries bounds how often a dropped download
	// is resumed from where it broke (0: 5).
	Retry       policy.RetryOptions
	ReadRetries int32
}

// IsBlobURL reports whether s names a blob in Azure Blob Storage:
// https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH (or a sovereign
// cloud's blob.core.* host), or an Azurite emulator URL whose path starts
// with its well-known account, http://127.0.0.1:10000/devstoreaccount1/…,
// or an ADLS Gen2 or WASB location (abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH,
// wasbs://…), which is read through the account's Blob endpoint (see
// azure.ADLSToBlobURL).
func IsBlobURL(s string) bool {
	if _, ok := azure.ADLSToBlobURL(s); ok {
		return true
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return strings.Contains(u.Hostname(), ".blob.core.") || strings.HasPrefix(u.Path, "/devstoreaccount1/")
	case "http":
		return strings.HasPrefix(u.Path, "/devstoreaccount1/")
	}
	return false
}

// OpenBlob opens one blob for streaming: loc is a blob URL
// (https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH[?SAS]; credentials
// as for `recs export --to blob`: the SAS in the URL, else the account
// key, else Azure AD) or, with opts.Container, the blob's name in that
// container. It returns the content (close it), its length in bytes, and
// a name for messages: the URL without its query. A dropped download is
// resumed from the byte where it broke, pinned to the blob's ETag so a
// blob replaced meanwhile is an error rather than a mix.
//
// Errors are *errdefs.ServiceError (a missing blob says so) and never contain
// a key, connection string or SAS.
func OpenBlob(ctx context.Context, loc string, opts BlobOptions) (rc io.ReadCloser, size int64, name string, err error) {
	l := azure.BlobLocation{AccountKey: opts.AccountKey, ConnectionString: opts.ConnectionString, Retry: opts.Retry}
	blobName := ""
	if opts.Container != "" {
		l.Container = opts.Container
		blobName = strings.TrimPrefix(loc, "/")
		name = opts.Container + "/" + blobName
	} else {
		if u, ok := azure.ADLSToBlobURL(loc); ok {
			loc = u
		}
		l.URL = loc
		name, _, _ = strings.Cut(loc, "?")
	}
	l = l.WithDefaults()
	secrets := l.Secrets()
	fail := func(err error) (io.ReadCloser, int64, string, error) {
		return nil, 0, name, errs.Service("blob", azure.Scrub(err, secrets...))
	}
	cc, prefix, err := azure.OpenContainer(l)
	if err != nil {
		return fail(err)
	}
	if opts.Container == "" {
		blobName = strings.TrimSuffix(prefix, "/")
	}
	if blobName == "" {
		return fail(fmt.Errorf("%s names a container, not a blob", name))
	}
	resp, err := cc.NewBlobClient(blobName).DownloadStream(ctx, nil)
	if err != nil {
		if bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) {
			return fail(fmt.Errorf("%s: %w", name, errNoBlob))
		}
		return fail(fmt.Errorf("%s: %w", name, err))
	}
	if resp.ContentLength != nil {
		size = *resp.ContentLength
	}
	retries := opts.ReadRetries
	if retries == 0 {
		retries = 5
	}
	body := resp.NewRetryReader(ctx, &blob.RetryReaderOptions{MaxRetries: retries})
	return &scrubReader{rc: body, name: name, secrets: secrets}, size, name, nil
}

// errNoBlob is the error of OpenBlob for a blob (or container) that does
// not exist.
var errNoBlob = errors.New("no such blob")

// scrubReader turns read errors into service errors without secrets.
type scrubReader struct {
	rc      io.ReadCloser
	name    string
	secrets []string
}

func (s *scrubReader) Read(p []byte) (int, error) {
	n, err := s.rc.Read(p)
	if err != nil && err != io.EOF {
		err = errs.Service("blob", azure.Scrub(fmt.Errorf("%s: %w", s.name, err), s.secrets...))
	}
	return n, err
}

func (s *scrubReader) Close() error { return s.rc.Close() }
