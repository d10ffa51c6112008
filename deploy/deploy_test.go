// Package deploy holds the deployment artefacts (Dockerfile at the
// repository root, Kubernetes manifests in k8s/). They cannot be built here
// (no container engine), so the tests check what can be checked: the
// manifests parse, the recs command lines in them are valid, and the
// binary the Dockerfile builds is static.
package deploy

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/recs-dev/recs/cli"
	"github.com/recs-dev/recs/internal/testenv"
)

type object struct {
	Kind     string
	Metadata struct{ Name string }
	Spec     yaml.Node
}

// containers returns every container's and init container's args in a
// parsed manifest document, wherever the pod template sits (Deployment,
// CronJob, Job).
func containers(n *yaml.Node, out *[][]string) {
	if n == nil {
		return
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if v := n.Content[i].Value; v == "containers" || v == "initContainers" {
				var cs []struct {
					Args []string
				}
				if err := n.Content[i+1].Decode(&cs); err == nil {
					for _, c := range cs {
						*out = append(*out, c.Args)
					}
				}
			}
			containers(n.Content[i+1], out)
		}
	}
	for _, c := range n.Content {
		if n.Kind != yaml.MappingNode {
			containers(c, out)
		}
	}
}

func TestManifestsParseAndUseRealFlags(t *testing.T) {
	files, _ := filepath.Glob("k8s/*.yaml")
	if len(files) < 2 {
		t.Fatalf("found %d manifests, want the CronJob and the API", len(files))
	}
	kinds := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var o object
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if o.Kind == "" || o.Metadata.Name == "" {
				t.Errorf("%s: a document without kind or name", f)
			}
			kinds[o.Kind] = true
			var args [][]string
			containers(&o.Spec, &args)
			for _, a := range args {
				checkArgs(t, f, a)
			}
		}
	}
	for _, k := range []string{"CronJob", "Deployment", "Service", "ServiceAccount"} {
		if !kinds[k] {
			t.Errorf("no %s in the manifests", k)
		}
	}
}

// container is the part of a pod's container TestShardedJob reads.
type container struct {
	Args []string
	Env  []struct {
		Name, Value string
		ValueFrom   struct {
			FieldRef struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
		} `yaml:"valueFrom"`
	}
}

// TestShardedJob checks the Indexed Job example: completionMode Indexed,
// each pod's --shard taken from its completion index over the Job's
// completions, one --publication shared with the finalize Job, whose
// --finalize is the same count.
func TestShardedJob(t *testing.T) {
	b, err := os.ReadFile("k8s/sharded-publish.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var indexed, finalize bool
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var o struct {
			Kind     string
			Metadata struct{ Name string }
			Spec     struct {
				CompletionMode string `yaml:"completionMode"`
				Completions    int
				Template       struct {
					Spec struct {
						Containers     []container `yaml:"containers"`
						InitContainers []container `yaml:"initContainers"`
					}
				}
			}
		}
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		all := append(o.Spec.Template.Spec.InitContainers, o.Spec.Template.Spec.Containers...)
		for _, c := range all {
			args := strings.Join(c.Args, " ")
			for _, e := range c.Env {
				if e.Name == "SHARD" && e.ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
					t.Errorf("SHARD comes from %q, not the completion index", e.ValueFrom.FieldRef.FieldPath)
				}
				if e.Name == "PUBLICATION" && e.Value == "" {
					t.Error("PUBLICATION is empty")
				}
			}
			switch {
			case strings.Contains(args, "--shard="):
				indexed = o.Spec.CompletionMode == "Indexed" && strings.Contains(args, "--shard=$(SHARD)/"+strconv.Itoa(o.Spec.Completions))
				if !indexed {
					t.Errorf("%s: %s is not one shard of %d per completion index", o.Metadata.Name, args, o.Spec.Completions)
				}
			case strings.Contains(args, "--finalize="):
				finalize = strings.Contains(args, "--finalize=8") && strings.Contains(args, "--publication=$(PUBLICATION)")
			}
		}
	}
	if !indexed || !finalize {
		t.Errorf("indexed shard job %v, finalize job %v", indexed, finalize)
	}
}

// checkArgs parses a container's recs command line with the real command
// tree, so that a renamed flag breaks this test, not the nightly job.
func checkArgs(t *testing.T, file string, args []string) {
	t.Helper()
	env := &cli.Env{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}
	root := cli.NewRoot(env)
	cmd, rest, err := root.Find(args)
	if err != nil || cmd == root {
		t.Errorf("%s: %v: no such recs command (%v)", file, args, err)
		return
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%s: recs %s: %v", file, strings.Join(args, " "), err)
	}
}

// TestStaticBinary builds recs as the Dockerfile does and checks that the
// result needs no dynamic loader (distroless/static has none). Under `make
// test` it checks the binary `make build` made with the Dockerfile's
// command ($RECS_BIN) instead of building another.
func TestStaticBinary(t *testing.T) {
	df, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(df, []byte("CGO_ENABLED=0")) || !bytes.Contains(df, []byte("distroless/static")) {
		t.Fatal("Dockerfile no longer builds with CGO_ENABLED=0 onto distroless/static")
	}
	out := testenv.RecsBinary(t)
	if out == "" {
		if testing.Short() {
			t.Skip("builds the binary (set RECS_BIN to check a built one)")
		}
		out = filepath.Join(t.TempDir(), "recs")
		cmd := exec.CommandContext(context.Background(), "go", "build", "-trimpath", "-o", out, "../cmd/recs")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, b)
		}
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary has a dynamic loader (PT_INTERP): not static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("the binary links %v", libs)
	}
}
