package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/recs-dev/recs/internal/emulator"
	"github.com/recs-dev/recs/internal/errs"
)

func TestIsBlobURL(t *testing.T) {
	for s, want := range map[string]bool{
		"https://acct.blob.core.windows.net/c/ratings.csv":           true,
		"https://acct.blob.core.chinacloudapi.cn/c/r.csv?sv=1&sig=x": true,
		"http://127.0.0.1:10000/devstoreaccount1/c/r.csv":            true,
		"https://example.com/ratings.csv":                            false,
		"ratings.csv":                                                false,
		"/data/ratings.csv":                                          false,
		"-":                                                          false,
		"ftp://acct.blob.core.windows.net/c/r.csv":                   false,
	} {
		if got := IsBlobURL(s); got != want {
			t.Errorf("IsBlobURL(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestOpenBlob reads a blob from Azurite by connection string and by SAS
// URL, and checks that a missing blob is a service error that shows no
// secret.
func TestOpenBlob(t *testing.T) {
	az := emulator.Azurite(t)
	name := fmt.Sprintf("ingest%d", time.Now().UnixNano()%1e9)
	c, err := container.NewClientFromConnectionString(az.ConnectionString(), name, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var data bytes.Buffer
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&data, "%d\t%d\t%d\t%d\n", i%97+1, i%301+1, i%5+1, 880000000+i)
	}
	if _, err := c.NewBlockBlobClient("in/u.data").UploadBuffer(ctx, data.Bytes(), nil); err != nil {
		t.Fatal(err)
	}
	quick := policy.RetryOptions{MaxRetries: -1}

	rc, size, shown, err := OpenBlob(ctx, "in/u.data", BlobOptions{Container: name, ConnectionString: az.ConnectionString(), Retry: quick})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data.Bytes()) || size != int64(data.Len()) || shown != name+"/in/u.data" {
		t.Errorf("read %d bytes (size %d, name %q), want %d", len(got), size, shown, data.Len())
	}

	cred, _ := container.NewSharedKeyCredential(az.Account, az.Key)
	qp, err := sas.BlobSignatureValues{Protocol: sas.ProtocolHTTPSandHTTP, ExpiryTime: time.Now().Add(time.Hour),
		Permissions: (&sas.ContainerPermissions{Read: true}).String(), ContainerName: name}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	u := az.ServiceURL + "/" + name + "/in/u.data?" + qp.Encode()
	if !IsBlobURL(u) {
		t.Errorf("IsBlobURL(%q) = false", u)
	}
	rc, _, shown, err = OpenBlob(ctx, u, BlobOptions{Retry: quick})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data.Bytes()) || strings.Contains(shown, qp.Signature()) {
		t.Errorf("SAS read: %d bytes, name %q", len(got), shown)
	}

	_, _, _, err = OpenBlob(ctx, az.ServiceURL+"/"+name+"/in/missing.csv?"+qp.Encode(), BlobOptions{Retry: quick})
	if !errs.IsService(err) || !strings.Contains(err.Error(), "no such blob") {
		t.Errorf("missing blob: err = %v", err)
	}
	if err != nil && (strings.Contains(err.Error(), qp.Signature()) || strings.Contains(err.Error(), az.Key)) {
		t.Errorf("secret in %v", err)
	}
	_, _, _, err = OpenBlob(ctx, az.ServiceURL+"/"+name+"?"+qp.Encode(), BlobOptions{Retry: quick})
	if err == nil || !strings.Contains(err.Error(), "names a container, not a blob") {
		t.Errorf("container URL: err = %v", err)
	}
}
