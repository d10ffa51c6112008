package serve

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/azure"
	"github.com/recs-dev/recs/internal/emulator"
	"github.com/recs-dev/recs/toplist"
)

// publishBlob publishes lists with `recs export`'s Blob sink to Azurite
// under CONTAINER/prefix and returns the container's URL.
func publishBlob(t *testing.T, e *emulator.AzuriteServer, cont, prefix string, meta toplist.Meta, lists []toplist.List, formats ...toplist.Format) {
	t.Helper()
	c, _, err := azure.OpenContainer(azure.BlobLocation{URL: e.ServiceURL + "/" + cont, AccountKey: e.Key})
	if err != nil {
		t.Fatal(err)
	}
	sink := &export.BlobSink{Container: c, Prefix: prefix, CreateContainer: true, Formats: formats}
	if _, err := sink.Publish(context.Background(), meta, export.Lists(lists)); err != nil {
		t.Fatal(err)
	}
}

func TestBlobSource(t *testing.T) {
	e := emulator.Azurite(t)
	cont := fmt.Sprintf("serve%d", time.Now().UnixNano())
	lists := testLists()
	publishBlob(t, e, cont, "daily", testMeta, lists, toplist.Parquet, toplist.JSONL)
	ctx := context.Background()

	// The URL may name the prefix or the manifest; a connection string and
	// container name work too.
	locs := map[string]func() (*BlobSource, error){
		"prefix URL": func() (*BlobSource, error) {
			return NewBlobSource(azure.BlobLocation{URL: e.ServiceURL + "/" + cont + "/daily", AccountKey: e.Key}, "")
		},
		"manifest URL": func() (*BlobSource, error) {
			return NewBlobSource(azure.BlobLocation{URL: e.ServiceURL + "/" + cont + "/daily/manifest.json", AccountKey: e.Key}, "")
		},
		"conn string": func() (*BlobSource, error) {
			return NewBlobSource(azure.BlobLocation{Container: cont, ConnectionString: e.ConnectionString()}, "daily")
		},
	}
	var src *BlobSource
	for name, open := range locs {
		s, err := open()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		idx, v, err := s.Load(ctx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if idx.Len() != len(lists) || idx.Meta() != testMeta || v == "" {
			t.Fatalf("%s: %d users meta %+v version %q", name, idx.Len(), idx.Meta(), v)
		}
		for _, l := range lists {
			r, ok := idx.Get(l.User)
			if !ok || recordBytes(r, 3) != wantResponse(t, testMeta, l, 3, false) {
				t.Errorf("%s: user %q: %v %s", name, l.User, ok, recordBytes(r, 3))
			}
		}
		if v2, err := s.Version(ctx); err != nil || v2 != v {
			t.Errorf("%s: Version %q %v, want %q", name, v2, err, v)
		}
		if strings.Contains(s.String(), e.Key) {
			t.Errorf("%s: String() shows the key", name)
		}
		src = s
	}

	// A new publication changes the manifest's ETag: the Reloader swaps.
	idx, v, _ := src.Load(ctx)
	srv := NewServer(Config{})
	srv.SetStore(idx)
	rl := &Reloader{Loader: src, Server: srv, Current: v}
	meta2 := testMeta
	meta2.Model = "als-next"
	publishBlob(t, e, cont, "daily", meta2, lists[:2], toplist.JSONL)
	if swapped, err := rl.ReloadNow(ctx); !swapped || err != nil {
		t.Fatalf("ReloadNow after a new publication: %v %v", swapped, err)
	}
	if info := srv.Store().Info(); info.Model != "als-next" || info.Users != 2 || info.Source != src.Display {
		t.Errorf("after reload: %+v", info)
	}

	// A data blob that differs from its manifest (recs never rewrites
	// one, but something else might) fails the checksum; one that is gone
	// (its generation deleted by later publications) fails the load too.
	c, _, _ := azure.OpenContainer(azure.BlobLocation{URL: e.ServiceURL + "/" + cont, AccountKey: e.Key})
	resp, err := c.NewBlobClient("daily/"+export.ManifestName).DownloadStream(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := export.ReadManifest(resp.Body, export.ManifestName)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	dataName := "daily/" + m.Files[0].Name
	uploadBlob(t, c, dataName, "{\"format\":\"recs-toplist\",\"version\":1,\"k\":3}\n")
	if _, _, err := src.Load(ctx); err == nil || !strings.Contains(err.Error(), "changed after its manifest") {
		t.Errorf("tampered data: %v", err)
	}
	if _, err := c.NewBlobClient(dataName).Delete(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := src.Load(ctx); err == nil || !strings.Contains(err.Error(), "which is gone") {
		t.Errorf("deleted data: %v", err)
	}
	// Nothing published under a prefix.
	empty, err := NewBlobSource(azure.BlobLocation{URL: e.ServiceURL + "/" + cont + "/nothing", AccountKey: e.Key}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := empty.Load(ctx); err == nil || !strings.Contains(err.Error(), "nothing is published") {
		t.Errorf("empty prefix: %v", err)
	}
}

// TestBlobSASNotLeaked uses a URL with a SAS that the service rejects: the
// source's description and its errors never contain the signature.
func TestBlobSASNotLeaked(t *testing.T) {
	e := emulator.Azurite(t)
	cont := fmt.Sprintf("sas%d", time.Now().UnixNano())
	publishBlob(t, e, cont, "p", testMeta, testLists(), toplist.JSONL)
	const sig = "SECRETsignatureAAAABBBBCCCCDDDD%3D"
	src, err := NewBlobSource(azure.BlobLocation{URL: e.ServiceURL + "/" + cont + "/p/manifest.json?sv=2021-08-06&sp=r&sr=c&se=2030-01-01T00%3A00%3A00Z&sig=" + sig}, "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(src.String(), "SECRET") || strings.Contains(src.String(), "sig=") {
		t.Errorf("String() = %q shows the SAS", src.String())
	}
	_, _, err = src.Load(context.Background())
	if err == nil {
		t.Fatal("a forged SAS was accepted")
	}
	t.Logf("load with a forged SAS: %v", err)
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("the error shows the SAS: %v", err)
	}
	if _, err := src.Version(context.Background()); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("Version: %v", err)
	}
}

func uploadBlob(t *testing.T, c *container.Client, name, content string) {
	t.Helper()
	if _, err := c.NewBlockBlobClient(name).Upload(context.Background(), streaming.NopCloser(bytes.NewReader([]byte(content))), nil); err != nil {
		t.Fatal(err)
	}
}
