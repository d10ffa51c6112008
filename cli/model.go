package cli

import (
	"context"

	"github.com/recs-dev/recs/als"
	"github.com/recs-dev/recs/ingest"
	"github.com/recs-dev/recs/internal/azure"
	"github.com/recs-dev/recs/internal/errs"
)

// loadModel reads the model at loc: a local directory, or a Spark
// ALSModel.save directory in Blob Storage or ADLS Gen2
// (https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH[?SAS],
// abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH), whose blobs are
// listed once and whose part files are downloaded in parallel. Credentials
// are those of every Blob URL: the SAS, else $AZURE_STORAGE_KEY, else Azure
// AD; they never appear in errors.
func loadModel(ctx context.Context, loc string) (*als.Model, error) {
	if !ingest.IsBlobURL(loc) {
		return als.Load(loc)
	}
	fsys, err := azure.OpenFS(ctx, azure.BlobLocation{URL: loc})
	if err != nil {
		return nil, errs.Service("blob", err)
	}
	if fsys.Empty() {
		return nil, errs.Inputf(fsys.Name(), 0, "not a model directory: no blobs under this prefix")
	}
	return als.LoadFS(fsys, fsys.Name())
}

// inputName is a location as it may be recorded or printed: a URL without
// its query (a SAS), anything else as given.
func inputName(loc string) string {
	if ingest.IsBlobURL(loc) {
		return azure.ScrubString(loc)
	}
	return loc
}
