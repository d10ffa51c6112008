package export

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/recs-dev/recs/internal/azure"
	"github.com/recs-dev/recs/internal/emulator"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/toplist"
)

var containerSeq atomic.Int64

// newTestContainer opens a fresh container of the shared Azurite.
func newTestContainer(t testing.TB) (*container.Client, *emulator.AzuriteServer, string, *azure.Counts) {
	t.Helper()
	az := emulator.Azurite(t)
	name := fmt.Sprintf("t%d-%d", time.Now().UnixNano()%1e9, containerSeq.Add(1))
	counts := new(azure.Counts)
	c, _, err := azure.OpenContainer(azure.BlobLocation{Container: name, ConnectionString: az.ConnectionString(),
		Retry: policy.RetryOptions{MaxRetries: 2, RetryDelay: 10 * time.Millisecond}, Counts: counts})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return c, az, name, counts
}

func download(t *testing.T, c *container.Client, name string) ([]byte, string) {
	t.Helper()
	resp, err := c.NewBlobClient(name).DownloadStream(context.Background(), nil)
	if err != nil {
		t.Fatalf("download %s: %v", name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	ct := ""
	if resp.ContentType != nil {
		ct = *resp.ContentType
	}
	return b, ct
}

func listBlobs(t *testing.T, c *container.Client, prefix string) []string {
	t.Helper()
	var names []string
	pager := c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &prefix})
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page.Segment.BlobItems {
			names = append(names, *b.Name)
		}
	}
	return names
}

// checkPublished verifies a publication under prefix: the manifest names
// every data file with its true size and SHA-256, and each file reads back
// to lists.
func checkPublished(t *testing.T, c *container.Client, prefix string, lists []toplist.List) *Manifest {
	t.Helper()
	mb, ct := download(t, c, prefix+ManifestName)
	if ct != "application/json" {
		t.Errorf("manifest content type %q", ct)
	}
	m, err := ReadManifest(bytes.NewReader(mb), ManifestName)
	if err != nil {
		t.Fatal(err)
	}
	if m.Users != int64(len(lists)) {
		t.Errorf("manifest users = %d, want %d", m.Users, len(lists))
	}
	for _, mf := range m.Files {
		b, ct := download(t, c, prefix+mf.Name)
		if ct != contentType(mf.Format) {
			t.Errorf("%s: content type %q, want %q", mf.Name, ct, contentType(mf.Format))
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != mf.SHA256 || int64(len(b)) != mf.Bytes {
			t.Errorf("%s: %d bytes, sha256 %x; manifest says %d, %s", mf.Name, len(b), sum, mf.Bytes, mf.SHA256)
		}
		rd, err := toplist.NewReader(bytes.NewReader(b), mf.Format, mf.Name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := rd.ReadAll()
		rd.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, lists) {
			t.Errorf("%s: lists differ from those published", mf.Name)
		}
	}
	return m
}

func TestBlobSink(t *testing.T) {
	c, _, _, counts := newTestContainer(t)
	lists := genLists(2000, 10, 4)
	// Small blocks: every file spans many staged blocks, several in flight.
	s := &BlobSink{Container: c, Prefix: "2024-05-01", BlockSize: 16 << 10, Concurrency: 3, Counts: counts,
		Formats: []toplist.Format{toplist.JSONLGzip, toplist.Parquet, toplist.JSONL}}
	st, err := s.Publish(context.Background(), testMeta, Lists(lists))
	if err != nil {
		t.Fatal(err)
	}
	m := checkPublished(t, c, "2024-05-01/", lists)
	if len(m.Files) != 3 || st.Documents != 2000 {
		t.Errorf("%d files, %d documents", len(m.Files), st.Documents)
	}
	if jf, _ := m.File(toplist.JSONL); jf.Bytes < 3*(16<<10) {
		t.Errorf("JSON lines file of %d bytes does not span several 16 KiB blocks; the test lost its point", jf.Bytes)
	}
	if st.Retries != 0 || st.Throttles != 0 {
		t.Errorf("retries %d, throttles %d against a healthy Azurite", st.Retries, st.Throttles)
	}
	got := listBlobs(t, c, "2024-05-01/")
	g := "2024-05-01/" + m.Generation + "/"
	want := []string{g + "toplist.jsonl", g + "toplist.jsonl.gz", g + "toplist.parquet", "2024-05-01/manifest.json"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("blobs = %v, want %v", got, want)
	}
}

func TestBlobSinkAtomic(t *testing.T) {
	c, _, _, _ := newTestContainer(t)
	boom := errors.New("source broke")
	// A run that fails midway leaves no blob at all: staged blocks are
	// never committed.
	s := &BlobSink{Container: c, Prefix: "run-a/", BlockSize: 8 << 10}
	if _, err := s.Publish(context.Background(), testMeta, &failingSource{lists: genLists(1500, 10, 5), err: boom}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the source's error", err)
	}
	if names := listBlobs(t, c, "run-a/"); len(names) != 0 {
		t.Errorf("failed run left blobs %v", names)
	}
	// A failed overwrite keeps the previous publication intact.
	good := genLists(300, 10, 6)
	s.Prefix = "run-b/"
	if _, err := s.Publish(context.Background(), testMeta, Lists(good)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Publish(context.Background(), testMeta, &failingSource{lists: genLists(1500, 10, 7), err: boom}); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	checkPublished(t, c, "run-b/", good)
}

// TestBlobSAS publishes through a container SAS URL, then checks that
// neither the SAS signature nor the account key reaches an error message
// when the service is unreachable.
func TestBlobSAS(t *testing.T) {
	c, az, name, _ := newTestContainer(t)
	cred, err := container.NewSharedKeyCredential(az.Account, az.Key)
	if err != nil {
		t.Fatal(err)
	}
	qp, err := sas.BlobSignatureValues{Protocol: sas.ProtocolHTTPSandHTTP, ExpiryTime: time.Now().Add(time.Hour),
		Permissions:   (&sas.ContainerPermissions{Read: true, Write: true, Create: true, List: true}).String(),
		ContainerName: name}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	sig := qp.Signature()
	u := az.ServiceURL + "/" + name + "/nightly/2024-05-01?" + qp.Encode()
	loc := azure.BlobLocation{URL: u}
	cc, prefix, err := azure.OpenContainer(loc)
	if err != nil {
		t.Fatal(err)
	}
	if prefix != "nightly/2024-05-01/" {
		t.Errorf("prefix = %q", prefix)
	}
	lists := genLists(100, 10, 8)
	s := &BlobSink{Container: cc, Prefix: prefix, CreateContainer: true, Secrets: loc.Secrets()}
	if _, err := s.Publish(context.Background(), testMeta, Lists(lists)); err != nil {
		t.Fatal(err)
	}
	checkPublished(t, c, prefix, lists)

	// The same SAS against a port where nothing listens.
	dead := "http://127.0.0.1:1/" + az.Account + "/" + name + "/p?" + qp.Encode()
	loc = azure.BlobLocation{URL: dead, Retry: policy.RetryOptions{MaxRetries: -1}}
	cc, prefix, err = azure.OpenContainer(loc)
	if err != nil {
		t.Fatal(err)
	}
	s = &BlobSink{Container: cc, Prefix: prefix, Secrets: loc.Secrets()}
	_, err = s.Publish(context.Background(), testMeta, Lists(lists))
	if err == nil || !errs.IsService(err) {
		t.Fatalf("err = %v, want a service error", err)
	}
	for _, secret := range []string{sig, qp.Encode(), az.Key} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error message contains a secret: %s", err)
		}
	}
	t.Logf("error as shown to the user: %v", err)
	if !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("error %q does not say where it failed", err)
	}
}
