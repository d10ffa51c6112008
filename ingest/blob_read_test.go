package ingest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/recs-dev/recs/internal/emulator"
)

// TestReadBlobSources reads Blob Storage URLs (Azurite, SAS in the URL) as
// sources of Read, a plain u.data and a gzip CSV, next to a local file.
func TestReadBlobSources(t *testing.T) {
	az := emulator.Azurite(t)
	name := fmt.Sprintf("read%d", time.Now().UnixNano()%1e9)
	c, err := container.NewClientFromConnectionString(az.ConnectionString(), name, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for blobName, data := range map[string][]byte{"u.data": []byte(uData), "r.csv.gz": gz(t, csv)} {
		if _, err := c.NewBlockBlobClient(blobName).UploadBuffer(ctx, data, nil); err != nil {
			t.Fatal(err)
		}
	}
	cred, _ := container.NewSharedKeyCredential(az.Account, az.Key)
	qp, err := sas.BlobSignatureValues{Protocol: sas.ProtocolHTTPSandHTTP, ExpiryTime: time.Now().Add(time.Hour),
		Permissions: (&sas.ContainerPermissions{Read: true}).String(), ContainerName: name}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	url := func(b string) string { return az.ServiceURL + "/" + name + "/" + b + "?" + qp.Encode() }
	local := writeFile(t, "ratings.dat", []byte(dat))

	rec := &recorder{}
	opts := Options{Blob: BlobOptions{Retry: policy.RetryOptions{MaxRetries: -1}}, Progress: rec}
	tab, rep, err := Read(ctx, []string{url("u.data"), url("r.csv.gz"), local}, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append(append([]row{}, uRows...), cRows...), dRows...)
	if got := rowsOf(tab); !reflect.DeepEqual(got, want) {
		t.Errorf("rows\n got %v\nwant %v", got, want)
	}
	wantName := az.ServiceURL + "/" + name + "/u.data" // no SAS in messages
	if rep.Sources[0].Name != wantName || rep.Sources[0].Format != FormatUData || rep.Sources[1].Format != FormatCSV {
		t.Errorf("sources %+v", rep.Sources)
	}
	if rec.total == 0 || rec.done != rec.total {
		t.Errorf("progress: done %d of %d", rec.done, rec.total)
	}
	lt, err := LoadTable(ctx, url("u.data"))
	if err != nil || !reflect.DeepEqual(rowsOf(lt), uRows) {
		t.Errorf("LoadTable(blob URL) = %v, %v", lt, err)
	}
}
