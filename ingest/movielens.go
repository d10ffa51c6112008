package ingest

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/flate"

	"github.com/recs-dev/recs/internal/atomicfile"
	"github.com/recs-dev/recs/internal/errs"
)

// MovieLensBaseURL is where GroupLens publishes the MovieLens archives,
// as ml-<name>.zip.
const MovieLensBaseURL = "https://files.grouplens.org/datasets/movielens"

// MovieLensSets are the names MovieLensPath accepts.
var MovieLensSets = []string{"100k", "1m", "10m", "20m", "25m", "32m", "latest-small"}

// knownArchives pins the size and SHA-256 of the releases that do not
// change, as recorded in TensorFlow Datasets' url_checksums/movielens.txt.
// The others (10m, 32m, latest-small, which GroupLens updates in place) are
// checked against the .md5 file GroupLens publishes beside the archive when
// there is one, and always by reading every member of the zip (CRC-32).
var knownArchives = map[string]struct {
	size   int64
	sha256 string
}{
	"100k": {4924029, "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229"},
	"1m":   {5917549, "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20"},
	"20m":  {198702078, "96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3"},
	"25m":  {261978986, "8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa"},
}

// DownloadOptions control MovieLensPath. The zero value downloads from
// GroupLens into CacheDir().
type DownloadOptions struct {
	BaseURL   string        // default MovieLensBaseURL
	CacheDir  string        // default CacheDir()
	Client    *http.Client  // default http.DefaultClient
	Progress  Progress      // bytes downloaded
	Retries   int           // attempts after the first on transient failures (default 3; < 0: none)
	RetryWait time.Duration // first pause between attempts, doubled each time (default 2s)
	// OnRetry, when set, is called before each pause between attempts
	// with the attempt that failed (1-based), its error and the pause.
	OnRetry func(attempt int, err error, wait time.Duration)
}

// CacheDir returns the directory recs caches downloads in:
// recs under the user cache directory (os.UserCacheDir: $XDG_CACHE_HOME,
// else ~/.cache, on Linux).
func CacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: set XDG_CACHE_HOME (%w)", err)
	}
	return filepath.Join(d, "recs"), nil
}

// MovieLensPath returns the path of the cached archive ml-<name>.zip,
// downloading it first when it is not in the cache. A download goes to a
// temporary file that is renamed into the cache only after it has been
// verified (size and SHA-256 where known, else the published MD5 when there
// is one, and always every zip member's CRC-32 and the presence of a
// ratings file), so the cache never holds a partial or corrupt archive.
// cached reports whether the cache already had it. Network and HTTP
// failures, after retries, are *errdefs.ServiceError.
func MovieLensPath(ctx context.Context, name string, o DownloadOptions) (path string, cached bool, err error) {
	if !isMovieLensSet(name) {
		return "", false, fmt.Errorf("unknown MovieLens set %q (want one of %s)", name, strings.Join(MovieLensSets, ", "))
	}
	dir := o.CacheDir
	if dir == "" {
		if dir, err = CacheDir(); err != nil {
			return "", false, err
		}
	}
	path = filepath.Join(dir, "ml-"+name+".zip")
	if st, err := os.Stat(path); err == nil {
		known, ok := knownArchives[name]
		if (!ok || st.Size() == known.size) && quickZipCheck(path) == nil {
			return path, true, nil
		}
		// A wrong size or unreadable directory: replace it.
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, fmt.Errorf("cache directory: %w", err)
	}
	base := strings.TrimRight(o.BaseURL, "/")
	if base == "" {
		base = MovieLensBaseURL
	}
	client := o.Client
	if client == nil {
		client = http.DefaultClient
	}
	retries, wait := o.Retries, o.RetryWait
	if retries == 0 {
		retries = 3
	}
	if wait <= 0 {
		wait = 2 * time.Second
	}
	url := base + "/ml-" + name + ".zip"
	for attempt := 0; ; attempt++ {
		err = download(ctx, client, url, name, path, o.Progress)
		var perm permanentError
		if err == nil || errors.As(err, &perm) || ctx.Err() != nil || attempt >= retries {
			break
		}
		if o.OnRetry != nil {
			o.OnRetry(attempt+1, err, wait<<attempt)
		}
		select {
		case <-time.After(wait << attempt):
		case <-ctx.Done():
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return "", false, ctx.Err()
		}
		var perm permanentError
		if errors.As(err, &perm) {
			err = perm.err
		}
		return "", false, errs.Service("http", fmt.Errorf("downloading %s: %w (without network: put the archive at %s, or give the ratings file itself, e.g. ml-%s/u.data, instead of --movielens)", url, err, path, name))
	}
	return path, false, nil
}

func isMovieLensSet(name string) bool {
	for _, s := range MovieLensSets {
		if s == name {
			return true
		}
	}
	return false
}

// permanentError marks failures that retrying cannot fix (404, 403, ...).
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// download fetches url into a temporary file beside path, verifies it and
// renames it to path.
func download(ctx context.Context, client *http.Client, url, name, path string, prog Progress) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return permanentError{err}
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("HTTP %s", resp.Status)
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout {
			return err
		}
		return permanentError{err}
	}
	known, isKnown := knownArchives[name]
	if prog != nil {
		total := resp.ContentLength
		if isKnown {
			total = known.size
		}
		if total > 0 {
			prog.SetTotal(total)
		}
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return permanentError{fmt.Errorf("cache: %w", err)}
	}
	defer f.Abort()
	sha, md := sha256.New(), md5.New()
	var body io.Reader = resp.Body
	if prog != nil {
		body = countReader{resp.Body, prog.Add}
	}
	n, err := io.Copy(io.MultiWriter(f, sha, md), body)
	if err != nil {
		return fmt.Errorf("after %d bytes: %w", n, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fmt.Errorf("got %d bytes, the server announced %d", n, resp.ContentLength)
	}
	if isKnown {
		if n != known.size {
			return fmt.Errorf("got %d bytes, ml-%s.zip has %d", n, name, known.size)
		}
		if got := hex.EncodeToString(sha.Sum(nil)); got != known.sha256 {
			return fmt.Errorf("SHA-256 %s, ml-%s.zip has %s", got, name, known.sha256)
		}
	} else if want, ok := publishedMD5(ctx, client, url); ok {
		if got := hex.EncodeToString(md.Sum(nil)); got != want {
			return fmt.Errorf("MD5 %s, %s.md5 says %s", got, url, want)
		}
	}
	if err := fullZipCheck(f.File, n); err != nil {
		return fmt.Errorf("downloaded archive is broken: %w", err)
	}
	return f.Commit()
}

// publishedMD5 fetches url+".md5" ("<hex>  <name>" or "MD5 (name) = <hex>")
// and reports whether it found a checksum there.
func publishedMD5(ctx context.Context, client *http.Client, url string) (string, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+".md5", nil)
	if err != nil {
		return "", false
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", false
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return "", false
	}
	for _, f := range strings.Fields(string(b)) {
		if len(f) == 32 {
			if _, err := hex.DecodeString(f); err == nil {
				return strings.ToLower(f), true
			}
		}
	}
	return "", false
}

// quickZipCheck reads the central directory and looks for a ratings file.
func quickZipCheck(path string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return err
	}
	defer zr.Close()
	if findRatingsMember(&zr.Reader) == nil {
		return errors.New("no ratings file in the archive")
	}
	return nil
}

// fullZipCheck decompresses every member (archive/zip checks each CRC-32
// at the end of the member) and looks for a ratings file.
func fullZipCheck(f *os.File, size int64) error {
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return err
	}
	zr.RegisterDecompressor(zip.Deflate, func(r io.Reader) io.ReadCloser { return flate.NewReader(r) })
	if findRatingsMember(zr) == nil {
		return fmt.Errorf("no ratings file (%s) in the archive", strings.Join(ratingsMembers, ", "))
	}
	buf := make([]byte, 1<<20)
	for _, m := range zr.File {
		if strings.HasSuffix(m.Name, "/") {
			continue
		}
		rc, err := m.Open()
		if err != nil {
			return fmt.Errorf("%s: %w", m.Name, err)
		}
		_, err = io.CopyBuffer(io.Discard, bufio.NewReader(rc), buf)
		rc.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", m.Name, err)
		}
	}
	return nil
}
