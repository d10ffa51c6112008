package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/recs-dev/recs/export"
	"github.com/recs-dev/recs/internal/emulator"
	"github.com/recs-dev/recs/toplist"
)

// writeTopK writes n users' lists of 3 items to a JSON lines file.
func writeTopK(t *testing.T, dir string, n int) (string, []toplist.List) {
	t.Helper()
	lists := make([]toplist.List, n)
	for u := range lists {
		lists[u] = toplist.List{User: fmt.Sprint(u + 1), Items: []toplist.Item{
			{ID: fmt.Sprint(100 + u%7), Score: 4.5}, {ID: fmt.Sprint(200 + u%5), Score: 3.25}, {ID: "300", Score: -1}}}
	}
	path := filepath.Join(dir, "top.jsonl")
	meta := toplist.Meta{Model: "als-00000000000000ab", K: 3, GeneratedAt: time.Date(2024, 5, 1, 2, 0, 0, 0, time.UTC)}
	if err := toplist.WriteFile(path, meta, lists); err != nil {
		t.Fatal(err)
	}
	return path, lists
}

func noSecrets(t *testing.T, secrets []string, outputs ...string) {
	t.Helper()
	for _, s := range secrets {
		for _, o := range outputs {
			if strings.Contains(o, s) {
				t.Errorf("secret %.6s… printed:\n%s", s, o)
			}
		}
	}
}

func TestExportCosmos(t *testing.T) {
	emu := emulator.Cosmos(t)
	dir := t.TempDir()
	path, _ := writeTopK(t, dir, 60)
	t.Setenv("RECS_COSMOS_ENDPOINT", emu.Endpoint)
	t.Setenv("RECS_COSMOS_KEY", emu.Key)
	db := fmt.Sprintf("cli-%d", time.Now().UnixNano())

	code, stdout, stderr := runArgs(t, "export", path, "--to", "cosmos", "--database", db, "--concurrency", "4")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, `exported 60 lists of model "als-00000000000000ab" to cosmos 127.0.0.1:`) ||
		!strings.Contains(stdout, "60 written, 0 skipped, 0 retries, 0 throttles") {
		t.Errorf("summary line: %q", stdout)
	}
	noSecrets(t, []string{emu.Key}, stdout, stderr)
	// The default checkpoint sits beside the input and says complete.
	ck, err := export.ReadCheckpoint(path + ".checkpoint.json")
	if err != nil || ck == nil || !ck.Complete || ck.Done != 60 {
		t.Errorf("checkpoint %+v, %v", ck, err)
	}

	// --resume after a complete run writes nothing; --json reports it.
	code, stdout, stderr = runArgs(t, "export", path, "--to", "cosmos", "--database", db, "--resume", "--json")
	var res exportResult
	if code != ExitOK || json.Unmarshal([]byte(stdout), &res) != nil {
		t.Fatalf("exit %d, stdout %q\n%s", code, stdout, stderr)
	}
	if res.Documents != 0 || res.Skipped != 60 || res.To != "cosmos" {
		t.Errorf("resume of a complete run: %+v", res)
	}

	// The documents are there, in the reference shape when asked.
	code, _, stderr = runArgs(t, "export", path, "--to", "cosmos", "--database", db, "--container", "ref", "--document-shape", "reference", "--checkpoint", filepath.Join(dir, "ck2.json"))
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	client, err := export.NewCosmosClient(emu.Endpoint, emu.Key, nil)
	if err != nil {
		t.Fatal(err)
	}
	cc, _ := client.NewContainer(db, "ref")
	item, err := cc.ReadItem(context.Background(), azcosmos.NewPartitionKeyString("7"), "7", nil)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal(item.Value, &doc)
	// User 7 (u = 6): items 100+6%7, 200+6%5, 300, from writeTopK.
	if got := fmt.Sprint(doc["MovieId"]); got != "[106 201 300]" || doc["items"] != nil {
		t.Errorf("reference document of user 7: %s", item.Value)
	}

	// A dead endpoint: exit 4 after retries, and still no key in sight.
	t.Setenv("RECS_COSMOS_ENDPOINT", "http://127.0.0.1:1/")
	code, stdout, stderr = runArgs(t, "export", path, "--to", "cosmos", "--database", db, "--max-retries", "1", "--checkpoint", filepath.Join(dir, "ck3.json"))
	if code != ExitService {
		t.Errorf("dead endpoint: exit %d, want %d\n%s", code, ExitService, stderr)
	}
	noSecrets(t, []string{emu.Key}, stdout, stderr)
}

func TestExportBlob(t *testing.T) {
	az := emulator.Azurite(t)
	dir := t.TempDir()
	path, _ := writeTopK(t, dir, 40)
	name := fmt.Sprintf("cli%d", time.Now().UnixNano()%1e9)

	// --blob-container with the connection string from the environment;
	// the container is created.
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", az.ConnectionString())
	code, stdout, stderr := runArgs(t, "export", path, "--to", "blob", "--blob-container", name, "--prefix", "2024-05-01", "--gzip")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "/"+name+"/2024-05-01/: 40 written") {
		t.Errorf("summary: %q", stdout)
	}
	noSecrets(t, []string{az.Key}, stdout, stderr)
	c, err := container.NewClientFromConnectionString(az.ConnectionString(), name, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The manifest names the data blobs of the publication's generation
	// folder, which exist.
	resp, err := c.NewBlobClient("2024-05-01/manifest.json").DownloadStream(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := export.ReadManifest(resp.Body, "manifest.json")
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 2 || m.Generation == "" {
		t.Errorf("manifest: generation %q, files %+v", m.Generation, m.Files)
	}
	for _, f := range m.Files {
		if !strings.HasPrefix(f.Name, m.Generation+"/toplist.") {
			t.Errorf("file %q is not in generation %q", f.Name, m.Generation)
		}
		if _, err := c.NewBlobClient("2024-05-01/"+f.Name).GetProperties(context.Background(), nil); err != nil {
			t.Errorf("blob %s: %v", f.Name, err)
		}
	}

	// A SAS URL from $RECS_BLOB_URL: the SAS never shows, also not when
	// the service cannot be reached (exit 4).
	cred, _ := container.NewSharedKeyCredential(az.Account, az.Key)
	qp, err := sas.BlobSignatureValues{Protocol: sas.ProtocolHTTPSandHTTP, ExpiryTime: time.Now().Add(time.Hour),
		Permissions: (&sas.ContainerPermissions{Read: true, Write: true, Create: true}).String(), ContainerName: name}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{qp.Signature(), qp.Encode(), az.Key}
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", "")
	t.Setenv("RECS_BLOB_URL", az.ServiceURL+"/"+name+"/sas?"+qp.Encode())
	code, stdout, stderr = runArgs(t, "export", path, "--to", "blob", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var res exportResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Documents != 40 || res.Manifest == nil || len(res.Manifest.Files) != 2 {
		t.Errorf("--json: %q (%v)", stdout, err)
	}
	noSecrets(t, secrets, stdout, stderr)
	t.Setenv("RECS_BLOB_URL", "http://127.0.0.1:1/"+az.Account+"/"+name+"/sas?"+qp.Encode())
	code, stdout, stderr = runArgs(t, "export", path, "--to", "blob", "--max-retries", "1")
	if code != ExitService {
		t.Errorf("unreachable blob: exit %d, want %d\n%s", code, ExitService, stderr)
	}
	noSecrets(t, secrets, stdout, stderr)
}

func TestExportExitCodes(t *testing.T) {
	dir := t.TempDir()
	path, _ := writeTopK(t, dir, 5)
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"format":"recs-toplist","version":1,"k":3}`+"\n"+`{"user":"1","items":[]}`+"\n"+`{"user":"1","items":[]}`+"\n"), 0o644)
	t.Setenv("RECS_COSMOS_ENDPOINT", "")
	t.Setenv("RECS_BLOB_URL", "")
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", "")
	for _, tc := range []struct {
		args []string
		want int
		msg  string
	}{
		{[]string{"export", path, "--to", "dir", "--dir", filepath.Join(dir, "ok")}, ExitOK, ""},
		{[]string{"export", bad, "--to", "dir", "--dir", filepath.Join(dir, "bad")}, ExitInput, `bad.jsonl:3: user "1" appears twice`},
		{[]string{"export", filepath.Join(dir, "missing.jsonl"), "--to", "dir", "--dir", dir}, ExitError, "no such file"},
		{[]string{"export", path}, ExitUsage, "--to is required"},
		{[]string{"export", path, "--to", "s3"}, ExitUsage, `--to "s3"`},
		{[]string{"export", path, "--to", "dir"}, ExitUsage, "--dir"},
		{[]string{"export", path, "--to", "dir", "--dir", dir, "--ttl", "5"}, ExitUsage, "--ttl does not apply to --to dir"},
		{[]string{"export", path, "--to", "cosmos"}, ExitUsage, "RECS_COSMOS_ENDPOINT"},
		{[]string{"export", path, "--to", "cosmos", "--cosmos-endpoint", "http://x/", "--document-shape", "flat"}, ExitUsage, "document-shape"},
		{[]string{"export", path, "--to", "cosmos", "--cosmos-endpoint", "http://x/", "--gzip"}, ExitUsage, "--gzip does not apply"},
		{[]string{"export", path, "--to", "blob"}, ExitUsage, "RECS_BLOB_URL"},
		{[]string{"export", path, "--to", "blob", "--blob-container", "c"}, ExitUsage, "AZURE_STORAGE_CONNECTION_STRING"},
		{[]string{"export", path, "--to", "dir", "--dir", dir, "--formats", "csv"}, ExitUsage, "unknown list format"},
		{[]string{"export", filepath.Join(dir, "top.csv"), "--to", "dir", "--dir", dir}, ExitUsage, "cannot tell the list format"},
	} {
		code, _, stderr := runArgs(t, tc.args...)
		if code != tc.want || !strings.Contains(stderr, tc.msg) {
			t.Errorf("recs %v: exit %d, want %d with %q; stderr:\n%s", tc.args[1:], code, tc.want, tc.msg, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bad", "manifest.json")); err == nil {
		t.Error("bad input left a manifest")
	}
}
