package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/recs-dev/recs/internal/emulator"
	"github.com/recs-dev/recs/toplist"
)

// writeSparkModel writes a model as Spark's ALSModel.save lays it out —
// metadata/part-00000 (one line of JSON) and _SUCCESS, and the factors in
// several part files per side (id int32, features array<float>), with no
// recs.json — from seeded random factors of the given rank.
func writeSparkModel(t *testing.T, dir string, users, items, rank, parts int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 9))
	write := func(rel string, data []byte) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	meta := fmt.Sprintf(`{"class":"org.apache.spark.ml.recommendation.ALSModel","timestamp":1714521600000,"sparkVersion":"3.5.1",`+
		`"uid":"als_0123456789ab","paramMap":{"userCol":"userId","itemCol":"movieId","coldStartStrategy":"drop"},`+
		`"defaultParamMap":{"predictionCol":"prediction","userCol":"user","itemCol":"item","coldStartStrategy":"nan","blockSize":4096},"rank":%d}`+"\n", rank)
	write("metadata/part-00000", []byte(meta))
	write("metadata/_SUCCESS", nil)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int32},
		{Name: "features", Type: arrow.ListOfNonNullable(arrow.PrimitiveTypes.Float32), Nullable: true},
	}, nil)
	for _, side := range []struct {
		dir   string
		n     int
		first int32
	}{{"userFactors", users, 1}, {"itemFactors", items, 1000}} {
		for p := range parts {
			b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
			ids := b.Field(0).(*array.Int32Builder)
			lb := b.Field(1).(*array.ListBuilder)
			vb := lb.ValueBuilder().(*array.Float32Builder)
			// Spark hash-partitions the ids: part p holds ids ≡ p mod parts.
			for i := p; i < side.n; i += parts {
				ids.Append(side.first + int32(i))
				lb.Append(true)
				for range rank {
					vb.Append(float32(rng.NormFloat64() * 0.5))
				}
			}
			rec := b.NewRecordBatch()
			b.Release()
			var buf strings.Builder
			props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy))
			fw, err := pqarrow.NewFileWriter(schema, &buf, props, pqarrow.DefaultWriterProps())
			if err != nil {
				t.Fatal(err)
			}
			if err := fw.Write(rec); err != nil {
				t.Fatal(err)
			}
			rec.Release()
			if err := fw.Close(); err != nil {
				t.Fatal(err)
			}
			write(fmt.Sprintf("%s/part-%05d-6f1c2a3e-9b7d-4c1e-8a55-0e2b1f3c4d5e-c000.snappy.parquet", side.dir, p), []byte(buf.String()))
		}
		write(side.dir+"/_SUCCESS", nil)
		write(side.dir+"/.part-00000-6f1c2a3e-9b7d-4c1e-8a55-0e2b1f3c4d5e-c000.snappy.parquet.crc", []byte("crc"))
	}
}

// uploadDir copies every file under dir to the container, under prefix.
func uploadDir(t *testing.T, c *container.Client, dir, prefix string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = c.NewBlockBlobClient(prefix+filepath.ToSlash(rel)).UploadBuffer(context.Background(), data, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestModelFromBlob reads a Spark-layout model (3 part files per side,
// no recs.json) from Azurite by URL — with a SAS, and with the account key
// from the environment — and checks that recommend gives exactly the lists
// (ids and float32 scores) of the local copy and eval exactly its metrics:
// the same bytes must give the same model. A prefix without a model is an
// input error (exit 3), and no output carries the SAS or the key.
func TestModelFromBlob(t *testing.T) {
	az := emulator.Azurite(t)
	dir := t.TempDir()
	local := filepath.Join(dir, "spark-model")
	writeSparkModel(t, local, 37, 23, 6, 3)

	name := fmt.Sprintf("model%d", time.Now().UnixNano()%1e9)
	c, err := container.NewClientFromConnectionString(az.ConnectionString(), name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	uploadDir(t, c, local, "nightly/als/")
	cred, _ := container.NewSharedKeyCredential(az.Account, az.Key)
	qp, err := sas.BlobSignatureValues{Protocol: sas.ProtocolHTTPSandHTTP, ExpiryTime: time.Now().Add(time.Hour),
		Permissions: (&sas.ContainerPermissions{Read: true, List: true}).String(), ContainerName: name}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	withSAS := az.ServiceURL + "/" + name + "/nightly/als?" + qp.Encode()
	plain := az.ServiceURL + "/" + name + "/nightly/als/"
	secrets := []string{az.Key, qp.Signature()}

	// A test split for eval: seeded ratings of known users and items.
	rng := rand.New(rand.NewPCG(2, 2))
	var b strings.Builder
	for u := 1; u <= 37; u++ {
		for range 3 {
			fmt.Fprintf(&b, "%d\t%d\t%d\n", u, 1000+rng.IntN(23), 1+rng.IntN(5))
		}
	}
	test := filepath.Join(dir, "test.tsv")
	if err := os.WriteFile(test, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	run := func(model, tag string, env map[string]string) ([]toplist.List, string, json.RawMessage) {
		t.Helper()
		for k, v := range env {
			t.Setenv(k, v)
		}
		out := filepath.Join(dir, tag+".jsonl")
		code, stdout, stderr := runArgs(t, "recommend", "--model", model, "--k", "5", "-o", out)
		if code != ExitOK {
			t.Fatalf("recommend --model %s: exit %d\n%s", tag, code, stderr)
		}
		noSecrets(t, secrets, stdout, stderr)
		meta, lists, err := toplist.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		metrics := filepath.Join(dir, tag+".metrics.json")
		code, stdout, stderr = runArgs(t, "eval", "--model", model, "--test", test, "--k", "5", "--include-seen", "--json", metrics)
		if code != ExitOK {
			t.Fatalf("eval --model %s: exit %d\n%s", tag, code, stderr)
		}
		noSecrets(t, secrets, stdout, stderr)
		raw, err := os.ReadFile(metrics)
		if err != nil {
			t.Fatal(err)
		}
		noSecrets(t, secrets, string(raw))
		var doc struct {
			Metrics json.RawMessage `json:"metrics"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		return lists, meta.Model, doc.Metrics
	}
	wantLists, wantModel, wantMetrics := run(local, "local", nil)
	if len(wantLists) != 37 {
		t.Fatalf("%d lists from the local model, want 37", len(wantLists))
	}
	for _, tc := range []struct {
		tag, model string
		env        map[string]string
	}{
		{"sas", withSAS, nil},
		{"key", plain, map[string]string{"AZURE_STORAGE_KEY": az.Key}},
	} {
		lists, model, metrics := run(tc.model, tc.tag, tc.env)
		if !reflect.DeepEqual(lists, wantLists) {
			t.Errorf("%s: the lists differ from the local model's", tc.tag)
		}
		if model != wantModel {
			t.Errorf("%s: model id %q, local %q", tc.tag, model, wantModel)
		}
		if string(metrics) != string(wantMetrics) {
			t.Errorf("%s: metrics\n%s\nlocal\n%s", tc.tag, metrics, wantMetrics)
		}
	}

	// No model under the prefix; a part missing its _SUCCESS marker.
	code, stdout, stderr := runArgs(t, "recommend", "--model", az.ServiceURL+"/"+name+"/nowhere?"+qp.Encode(), "-o", filepath.Join(dir, "x.jsonl"))
	if code != ExitInput || !strings.Contains(stderr, "no blobs under this prefix") {
		t.Errorf("empty prefix: exit %d\n%s", code, stderr)
	}
	noSecrets(t, secrets, stdout, stderr)
	if _, err := c.NewBlobClient("nightly/als/itemFactors/_SUCCESS").Delete(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runArgs(t, "recommend", "--model", withSAS, "-o", filepath.Join(dir, "y.jsonl"))
	if code != ExitInput || !strings.Contains(stderr, "/nightly/als/itemFactors: no _SUCCESS marker") {
		t.Errorf("incomplete model: exit %d\n%s", code, stderr)
	}
}
