package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/azure"
	"github.com/recs-dev/recs/internal/emulator"
	"github.com/recs-dev/recs/internal/errs"
	"github.com/recs-dev/recs/rundir"
	"github.com/recs-dev/recs/toplist"
)

// TestPublishCosmos trains and publishes to the Cosmos DB emulator: every
// user of the top-k file has a document with the same items in order.
func TestPublishCosmos(t *testing.T) {
	emu := emulator.Cosmos(t)
	c := testConfig(smallData(t), filepath.Join(t.TempDir(), "runs"))
	c.Publish.To, c.Publish.Container = "cosmos", "pipeline_test"
	c.Publish.DefaultCosmosEndpoint, c.Publish.CosmosKey = emu.Endpoint, emu.Key
	res, err := Run(context.Background(), c, "test", Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	_, lists, err := toplist.ReadFile(filepath.Join(res.Dir, rundir.TopKFile))
	if err != nil {
		t.Fatal(err)
	}
	if p := res.Manifest.Published; p == nil || p.Documents != int64(len(lists)) {
		t.Fatalf("published %+v, want %d documents", p, len(lists))
	}
	if strings.Contains(res.Manifest.Published.Target, emu.Key) {
		t.Fatal("the manifest shows the Cosmos key")
	}
	client, err := export.NewCosmosClient(emu.Endpoint, emu.Key, nil)
	if err != nil {
		t.Fatal(err)
	}
	cont, err := client.NewContainer(export.DefaultDatabase, "pipeline_test")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []toplist.List{lists[0], lists[len(lists)/2], lists[len(lists)-1]} {
		resp, err := cont.ReadItem(context.Background(), azcosmos.NewPartitionKeyString(l.User), l.User, nil)
		if err != nil {
			t.Fatalf("user %s: %v", l.User, err)
		}
		var doc struct {
			ID    string         `json:"id"`
			Items []toplist.Item `json:"items"`
		}
		if err := json.Unmarshal(resp.Value, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.ID != l.User || !reflect.DeepEqual(doc.Items, l.Items) {
			t.Errorf("user %s: document %+v, want items %+v", l.User, doc, l.Items)
		}
	}
}

// TestPublishBlobAndDryRun publishes to Azurite (manifest last, naming the
// data files) and checks that a dry run refuses a wrong account key.
func TestPublishBlobAndDryRun(t *testing.T) {
	emu := emulator.Azurite(t)
	useAccountKey(t, emu.Key)
	c := testConfig(smallData(t), filepath.Join(t.TempDir(), "runs"))
	c.Publish.To = "blob"
	c.Publish.DefaultBlobURL = emu.ServiceURL + "/pipeline/nightly"

	if _, err := DryRun(context.Background(), c, Hooks{}); err != nil {
		t.Fatalf("dry run with the right key: %v", err)
	}
	res, err := Run(context.Background(), c, "test", Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	cc, prefix, err := azure.OpenContainer(azure.BlobLocation{URL: emu.ServiceURL + "/pipeline/nightly"}.WithDefaults())
	if err != nil {
		t.Fatal(err)
	}
	m := readBlobManifest(t, cc, prefix+export.ManifestName)
	if m.Users != res.Manifest.Published.Documents || len(m.Files) == 0 {
		t.Fatalf("manifest %+v, published %+v", m, res.Manifest.Published)
	}

	wrong := strings.Repeat("A", len(emu.Key)-4) + "AA=="
	useAccountKey(t, wrong)
	_, err = DryRun(context.Background(), c, Hooks{})
	if !errs.IsService(err) {
		t.Fatalf("dry run with a wrong key: %v, want a service error", err)
	}
	if strings.Contains(err.Error(), wrong) {
		t.Fatalf("the error shows the key: %v", err)
	}
}

func readBlobManifest(t *testing.T, cc *container.Client, name string) *export.Manifest {
	t.Helper()
	resp, err := cc.NewBlobClient(name).DownloadStream(context.Background(), nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	m, err := export.ReadManifest(strings.NewReader(string(b)), name)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var blobSeq atomic.Int64

// TestTrainFromBlob reads the ratings from a Blob URL (Azurite), as the
// nightly CronJob does, and records the source in the manifest.
func TestTrainFromBlob(t *testing.T) {
	emu := emulator.Azurite(t)
	useAccountKey(t, emu.Key)
	// A container of its own per run: the emulator outlives one run of
	// the test under -count.
	cont := fmt.Sprintf("ratings%d", blobSeq.Add(1))
	url := emu.ServiceURL + "/" + cont + "/daily/ratings.csv"
	cc, _, err := azure.OpenContainer(azure.BlobLocation{URL: emu.ServiceURL + "/" + cont}.WithDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Create(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(smallData(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cc.NewBlockBlobClient("daily/ratings.csv").UploadBuffer(context.Background(), data, nil); err != nil {
		t.Fatal(err)
	}
	c := testConfig(url, filepath.Join(t.TempDir(), "runs"))
	res, err := Run(context.Background(), c, "test", Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	// 6000: smallData asks synth for exactly 6000 ratings.
	if in := res.Manifest.Inputs; len(in) != 1 || in[0].Source != url || in[0].Rows != 6000 {
		t.Errorf("inputs %+v, want %s with 6000 rows", in, url)
	}
}

// useAccountKey makes key the Blob account key every location falls back
// on (what recs sets from $AZURE_STORAGE_KEY) for the rest of the test.
func useAccountKey(t *testing.T, key string) {
	azure.SetDefaultCredentials(azure.Credentials{AccountKey: key})
	t.Cleanup(func() { azure.SetDefaultCredentials(azure.Credentials{}) })
}
