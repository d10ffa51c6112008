package als

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/recs-dev/recs/internal/errs"

	_ "github.com/recs-dev/recs/internal/parquetcodec" // standard-speed Snappy for the files written here
)

// Model directory layout, as Spark's ALSModel.save writes it, plus recs.json:
//
//	DIR/metadata/part-00000      one line of JSON: class, timestamp, sparkVersion,
//	DIR/metadata/_SUCCESS        uid, paramMap, defaultParamMap, rank
//	DIR/userFactors/part-00000-<uuid>-c000.snappy.parquet
//	DIR/userFactors/_SUCCESS     id: int32 (required), features: list<float32> (elements required)
//	DIR/itemFactors/part-00000-<uuid>-c000.snappy.parquet
//	DIR/itemFactors/_SUCCESS
//	DIR/recs.json                recs's own: model id, parameters, training data hash,
//	                             per-iteration history, original ids, file checksums
//
// Spark loads such a directory with ALSModel.load (recs.json is ignored by
// it); recs loads directories written by Spark, which have no recs.json and
// may split the factors over several part files.

// SparkVersion is the Spark version recs declares in the metadata it
// writes. The metadata sets ALSModel's blockSize param, which appeared in
// Spark 3.0: Spark 3.0 and later load the models recs writes.
const SparkVersion = "3.5.0"

const (
	sparkClass    = "org.apache.spark.ml.recommendation.ALSModel"
	recsFormat    = "recs-als-model"
	recsVersion   = 1
	recsMetaFile  = "recs.json"
	sparkMetaFile = "metadata/part-00000"
)

// sparkMeta is the JSON Spark's DefaultParamsWriter writes, with ALSModel's
// extra "rank".
type sparkMeta struct {
	Class           string                     `json:"class"`
	Timestamp       int64                      `json:"timestamp"`
	SparkVersion    string                     `json:"sparkVersion"`
	UID             string                     `json:"uid"`
	ParamMap        map[string]json.RawMessage `json:"paramMap"`
	DefaultParamMap map[string]json.RawMessage `json:"defaultParamMap,omitempty"`
	Rank            *int                       `json:"rank"`
}

// recsMeta is DIR/recs.json.
type recsMeta struct {
	Format   string      `json:"format"`  // "recs-als-model"
	Version  int         `json:"version"` // 1
	ModelID  string      `json:"modelId"`
	Rank     int         `json:"rank"`
	Params   *Params     `json:"params,omitempty"`
	DataHash string      `json:"dataHash,omitempty"`
	History  []Iteration `json:"history,omitempty"`
	Users    idInfo      `json:"users"`
	Items    idInfo      `json:"items"`
	Files    []fileSum   `json:"files"`
}

// idInfo describes one side's ids. When every id is the canonical decimal
// form of an int32 the Parquet id column holds the ids themselves and IDs
// is empty; otherwise the id column holds each row's position in IDs.
type idInfo struct {
	Count int      `json:"count"`
	IDs   []string `json:"ids,omitempty"`
}

type fileSum struct {
	Path   string `json:"path"` // relative to the model directory, '/'-separated
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// check validates the shape of m before it is saved.
func (m *Model) check() error {
	if m.Rank < 1 {
		return fmt.Errorf("als: model rank %d", m.Rank)
	}
	if len(m.UserFactors) != len(m.UserIDs)*m.Rank || len(m.ItemFactors) != len(m.ItemIDs)*m.Rank {
		return fmt.Errorf("als: model has %d users, %d items, %d and %d factor values for rank %d",
			len(m.UserIDs), len(m.ItemIDs), len(m.UserFactors), len(m.ItemFactors), m.Rank)
	}
	for _, ids := range [][]string{m.UserIDs, m.ItemIDs} {
		seen := make(map[string]struct{}, len(ids))
		for _, id := range ids {
			if _, dup := seen[id]; dup {
				return fmt.Errorf("als: model has the id %q twice", id)
			}
			seen[id] = struct{}{}
		}
	}
	return nil
}

// int32IDs returns the ids as int32 when every one is a canonical decimal
// int32 ("42", "-7"; not "007" or "+7").
func int32IDs(ids []string) ([]int32, bool) {
	out := make([]int32, len(ids))
	for i, id := range ids {
		v, err := strconv.ParseInt(id, 10, 32)
		if err != nil || strconv.FormatInt(v, 10) != id {
			return nil, false
		}
		out[i] = int32(v)
	}
	return out, true
}

// Save writes m to dir in Spark's ALSModel layout plus recs.json. The model
// is written to a temporary directory beside dir and renamed into place, so
// dir never holds a partial model. An existing dir is replaced only if it
// is empty or holds a model (metadata/ or recs.json); the old one is moved
// aside and removed after the new one is in place.
func Save(dir string, m *Model) error {
	if err := m.check(); err != nil {
		return err
	}
	dir = filepath.Clean(dir)
	if err := replaceable(dir); err != nil {
		return err
	}
	parent := filepath.Dir(dir)
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("als: save: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	if m.ID == "" {
		m.ID = m.contentID()
	}
	if err := writeModelDir(tmp, m); err != nil {
		return err
	}
	if err := swapDir(tmp, dir, m.ID); err != nil {
		return err
	}
	ok = true
	return nil
}

// writeModelDir writes every file of m into the empty directory tmp and
// syncs them: the factors and Spark's metadata in ALSModel's layout, then
// recs.json with the checksums of the others.
func writeModelDir(tmp string, m *Model) error {
	meta := recsMeta{Format: recsFormat, Version: recsVersion, ModelID: m.ID, Rank: m.Rank,
		Params: m.Params, DataHash: m.DataHash, History: m.History,
		Users: idInfo{Count: len(m.UserIDs)}, Items: idInfo{Count: len(m.ItemIDs)}}
	uuid := uuidFrom(m.ID)
	for _, s := range []struct {
		dir  string
		ids  []string
		f    []float32
		info *idInfo
	}{
		{"userFactors", m.UserIDs, m.UserFactors, &meta.Users},
		{"itemFactors", m.ItemIDs, m.ItemFactors, &meta.Items},
	} {
		ids, isInt := int32IDs(s.ids)
		if !isInt {
			s.info.IDs = s.ids
			ids = make([]int32, len(s.ids))
			for i := range ids {
				ids[i] = int32(i)
			}
		}
		name := s.dir + "/part-00000-" + uuid + "-c000.snappy.parquet"
		sum, err := writeFileSum(tmp, name, func(w io.Writer) error { return writeFactors(w, ids, s.f, m.Rank) })
		if err != nil {
			return err
		}
		meta.Files = append(meta.Files, sum)
		if _, err := writeFileSum(tmp, s.dir+"/_SUCCESS", func(io.Writer) error { return nil }); err != nil {
			return err
		}
	}
	sm, err := m.sparkMetadata()
	if err != nil {
		return err
	}
	sum, err := writeFileSum(tmp, sparkMetaFile, func(w io.Writer) error { _, err := w.Write(sm); return err })
	if err != nil {
		return err
	}
	meta.Files = append(meta.Files, sum)
	if _, err := writeFileSum(tmp, "metadata/_SUCCESS", func(io.Writer) error { return nil }); err != nil {
		return err
	}
	rj, err := json.MarshalIndent(meta, "", " ")
	if err != nil {
		return fmt.Errorf("als: save: %w", err)
	}
	if _, err := writeFileSum(tmp, recsMetaFile, func(w io.Writer) error { _, err := w.Write(append(rj, '\n')); return err }); err != nil {
		return err
	}
	for _, d := range []string{"userFactors", "itemFactors", "metadata", "."} {
		if err := syncDir(filepath.Join(tmp, d)); err != nil {
			return err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("als: save: %w", err)
	}
	return nil
}

// swapDir renames the finished directory tmp to dir. An existing dir is
// moved aside first (to a name carrying id) and removed once tmp is in
// place; if the rename fails, it is moved back.
func swapDir(tmp, dir, id string) error {
	parent := filepath.Dir(dir)
	var old string
	if _, err := os.Lstat(dir); err == nil {
		old = filepath.Join(parent, "."+filepath.Base(dir)+".old-"+id)
		os.RemoveAll(old)
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("als: save: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		return fmt.Errorf("als: save: %w", err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return syncDir(parent)
}

// replaceable reports whether Save may put a model at dir.
func replaceable(dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("als: save: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("als: save: %s exists and is not a directory", dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("als: save: %w", err)
	}
	if len(ents) == 0 {
		return nil
	}
	for _, f := range []string{recsMetaFile, "metadata"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return nil
		}
	}
	return fmt.Errorf("als: save: %s exists and does not hold a model; not replacing it", dir)
}

// uuidFrom formats 16 bytes of the hash of s as a UUID (Spark names part
// files after a random job UUID; recs derives it from the model id so that
// the same model gives the same names).
func uuidFrom(s string) string {
	h := sha256.Sum256([]byte(s))
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

func writeFileSum(root, rel string, fn func(io.Writer) error) (fileSum, error) {
	path := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fileSum{}, fmt.Errorf("als: save: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fileSum{}, fmt.Errorf("als: save: %w", err)
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	err = fn(cw)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fileSum{}, fmt.Errorf("als: save %s: %w", rel, err)
	}
	return fileSum{Path: rel, Size: cw.n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("als: save: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("als: save: sync %s: %w", dir, err)
	}
	return nil
}

// factorSchema is the schema of Spark's factor DataFrames.
var (
	featuresType = arrow.ListOfNonNullable(arrow.PrimitiveTypes.Float32)
	factorSchema = arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int32, Nullable: false},
		{Name: "features", Type: featuresType, Nullable: true},
	}, nil)
)

// sparkRowMetadata is the Spark SQL schema Spark stores in the Parquet
// footer of the factor files.
const sparkRowMetadata = `{"type":"struct","fields":[{"name":"id","type":"integer","nullable":false,"metadata":{}},` +
	`{"name":"features","type":{"type":"array","elementType":"float","containsNull":false},"nullable":true,"metadata":{}}]}`

// factorBatchRows is the number of rows per record batch written.
const factorBatchRows = 1 << 16

func writeFactors(w io.Writer, ids []int32, f []float32, rank int) error {
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithCreatedBy("recs"), parquet.WithDictionaryDefault(false))
	fw, err := pqarrow.NewFileWriter(factorSchema, struct{ io.Writer }{w}, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return err
	}
	for _, kv := range [][2]string{{"org.apache.spark.version", SparkVersion}, {"org.apache.spark.sql.parquet.row.metadata", sparkRowMetadata}} {
		if err := fw.AppendKeyValueMetadata(kv[0], kv[1]); err != nil {
			fw.Close()
			return err
		}
	}
	n := len(ids)
	for lo := 0; lo < n || (n == 0 && lo == 0); lo += factorBatchRows {
		hi := min(lo+factorBatchRows, n)
		rec := factorRecord(ids[lo:hi], f[lo*rank:hi*rank], rank)
		err := fw.Write(rec)
		rec.Release()
		if err != nil {
			fw.Close()
			return err
		}
		if n == 0 {
			break
		}
	}
	return fw.Close()
}

func factorRecord(ids []int32, f []float32, rank int) arrow.RecordBatch {
	n := len(ids)
	idArr := array.NewInt32Data(array.NewData(arrow.PrimitiveTypes.Int32, n,
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(ids))}, nil, 0, 0))
	offsets := make([]int32, n+1)
	for i := range offsets {
		offsets[i] = int32(i * rank)
	}
	vals := array.NewData(arrow.PrimitiveTypes.Float32, n*rank,
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Float32Traits.CastToBytes(f))}, nil, 0, 0)
	lst := array.NewListData(array.NewData(featuresType, n,
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offsets))}, []arrow.ArrayData{vals}, 0, 0))
	vals.Release()
	rec := array.NewRecordBatch(factorSchema, []arrow.Array{idArr, lst}, int64(n))
	idArr.Release()
	lst.Release()
	return rec
}

// sparkMetadata returns the one-line metadata JSON of Spark's
// DefaultParamsWriter for m.
func (m *Model) sparkMetadata() ([]byte, error) {
	info := m.Spark
	if info.UID == "" {
		info.UID = "als_" + strings.ReplaceAll(uuidFrom("uid:"+m.ID), "-", "")[:12]
	}
	if info.Timestamp == 0 {
		info.Timestamp = time.Now().UnixMilli()
	}
	cold := info.ColdStart
	if m.Params != nil && m.Params.ColdStart != "" {
		cold = m.Params.ColdStart
	}
	if cold == "" {
		cold = ColdStartNaN
	}
	userCol, itemCol := info.UserCol, info.ItemCol
	if userCol == "" {
		userCol = "user"
	}
	if itemCol == "" {
		itemCol = "item"
	}
	enc := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	rank := m.Rank
	meta := sparkMeta{
		Class: sparkClass, Timestamp: info.Timestamp, SparkVersion: SparkVersion, UID: info.UID,
		ParamMap: map[string]json.RawMessage{
			"userCol": enc(userCol), "itemCol": enc(itemCol), "coldStartStrategy": enc(string(cold)),
			"predictionCol": enc("prediction"), "blockSize": enc(4096),
		},
		DefaultParamMap: map[string]json.RawMessage{
			"userCol": enc("user"), "itemCol": enc("item"), "coldStartStrategy": enc("nan"),
			"predictionCol": enc("prediction"), "blockSize": enc(4096),
		},
		Rank: &rank,
	}
	b, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Load reads a model written by Save or by Spark's ALSModel.save from the
// local directory dir; see LoadFS.
func Load(dir string) (*Model, error) {
	return LoadFS(os.DirFS(dir), dir)
}

// LoadFS reads a model written by Save or by Spark's ALSModel.save from the
// root of fsys (a local directory, or the blobs under a Blob Storage
// prefix); name is the root's location for messages. It checks that the
// directory is complete and consistent: the metadata names an ALSModel
// with a positive rank, each factor directory has its _SUCCESS marker and
// readable Parquet part files with an int32 id and float32 features of
// exactly rank values, ids are unique, and values finite. With a
// recs.json, the files must also match its sizes and checksums and the id
// counts. Part files are read in parallel (Spark writes one per partition
// of the factor DataFrame, often hundreds). Problems with the content are
// *errdefs.InputError naming the file; a failure to read it that fsys
// reports as an *errdefs.ServiceError is returned as such.
func LoadFS(fsys fs.FS, name string) (*Model, error) {
	ld := loader{fsys: fsys, name: name}
	metaPath := ld.where(sparkMetaFile)
	raw, err := fs.ReadFile(fsys, sparkMetaFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errs.Inputf(name, 0, "not a model directory: no %s", sparkMetaFile)
		}
		return nil, ld.fileErr(sparkMetaFile, err)
	}
	var sm sparkMeta
	if err := json.Unmarshal(bytes.TrimSpace(raw), &sm); err != nil {
		return nil, errs.Inputf(metaPath, 1, "not Spark model metadata: %v", err)
	}
	if sm.Class != sparkClass {
		return nil, errs.Inputf(metaPath, 1, "class %q is not %s", sm.Class, sparkClass)
	}
	if sm.Rank == nil || *sm.Rank < 1 {
		return nil, errs.Inputf(metaPath, 1, "no positive \"rank\" in the metadata")
	}
	m := &Model{Rank: *sm.Rank}
	m.Spark = SparkInfo{UID: sm.UID, SparkVersion: sm.SparkVersion, Timestamp: sm.Timestamp}
	param := func(name string) string {
		for _, pm := range []map[string]json.RawMessage{sm.ParamMap, sm.DefaultParamMap} {
			var s string
			if v, ok := pm[name]; ok && json.Unmarshal(v, &s) == nil {
				return s
			}
		}
		return ""
	}
	m.Spark.UserCol, m.Spark.ItemCol = param("userCol"), param("itemCol")
	m.Spark.ColdStart = ColdStart(param("coldStartStrategy"))

	var rm *recsMeta
	rmPath := ld.where(recsMetaFile)
	if b, err := fs.ReadFile(fsys, recsMetaFile); err == nil {
		rm = new(recsMeta)
		if err := json.Unmarshal(b, rm); err != nil {
			return nil, errs.Inputf(rmPath, 0, "%v", err)
		}
		if rm.Format != recsFormat || rm.Version != recsVersion {
			return nil, errs.Inputf(rmPath, 0, "format %q version %d, want %q version %d", rm.Format, rm.Version, recsFormat, recsVersion)
		}
		if rm.Rank != m.Rank {
			return nil, errs.Inputf(rmPath, 0, "rank %d, but the Spark metadata says %d", rm.Rank, m.Rank)
		}
		for _, f := range rm.Files {
			if err := ld.verifyFile(f); err != nil {
				return nil, err
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, ld.fileErr(recsMetaFile, err)
	}

	for _, s := range []struct {
		sub string
		ids *[]string
		f   *[]float32
	}{{"userFactors", &m.UserIDs, &m.UserFactors}, {"itemFactors", &m.ItemIDs, &m.ItemFactors}} {
		var info *idInfo
		if rm != nil {
			info = &rm.Users
			if s.sub == "itemFactors" {
				info = &rm.Items
			}
		}
		ids, f, err := ld.readFactorDir(s.sub, m.Rank, info)
		if err != nil {
			return nil, err
		}
		*s.ids, *s.f = ids, f
	}
	if rm != nil {
		m.ID, m.Params, m.DataHash, m.History = rm.ModelID, rm.Params, rm.DataHash, rm.History
	} else {
		m.ID = m.contentID()
	}
	return m, nil
}

// loader reads the files of one model directory.
type loader struct {
	fsys fs.FS
	name string
}

// where returns the location of the file rel ('/'-separated) for messages:
// a local path, or the URL of a blob.
func (ld loader) where(rel string) string {
	if strings.Contains(ld.name, "://") {
		return strings.TrimSuffix(ld.name, "/") + "/" + rel
	}
	return filepath.Join(ld.name, filepath.FromSlash(rel))
}

// fileErr reports a failure to read rel: a service error (a Blob download
// that failed after retries) stays one; anything else is an input error
// naming the file.
func (ld loader) fileErr(rel string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errs.IsService(err) {
		return fmt.Errorf("%s: %w", ld.where(rel), err)
	}
	return errs.Input(ld.where(rel), err)
}

func (ld loader) verifyFile(f fileSum) error {
	if strings.Contains(f.Path, "..") || !fs.ValidPath(f.Path) {
		return errs.Inputf(ld.where(recsMetaFile), 0, "bad file path %q", f.Path)
	}
	path := ld.where(f.Path)
	fh, err := ld.fsys.Open(f.Path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return errs.Inputf(path, 0, "missing (listed in %s): the model is incomplete", recsMetaFile)
		}
		return ld.fileErr(f.Path, err)
	}
	defer fh.Close()
	h := sha256.New()
	n, err := io.Copy(h, fh)
	if err != nil {
		return ld.fileErr(f.Path, err)
	}
	if n != f.Size {
		return errs.Inputf(path, 0, "%d bytes, %s says %d: the file is truncated or was replaced", n, recsMetaFile, f.Size)
	}
	if hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
		return errs.Inputf(path, 0, "checksum differs from %s: the file was modified", recsMetaFile)
	}
	return nil
}

// loadWorkers is the number of part files read at once: more than the
// cores, since over the network a part's download waits more than it
// computes.
func loadWorkers() int { return max(8, runtime.GOMAXPROCS(0)) }

// readFactorDir reads every part file of one factor directory, in
// parallel, and concatenates them in the order of their names.
func (ld loader) readFactorDir(sub string, rank int, info *idInfo) ([]string, []float32, error) {
	dir := ld.where(sub)
	parts, err := ld.factorParts(sub)
	if err != nil {
		return nil, nil, err
	}
	rawIDs, f, err := ld.readFactorParts(sub, parts, rank)
	if err != nil {
		return nil, nil, err
	}
	seen := make(map[int64]struct{}, len(rawIDs))
	for _, id := range rawIDs {
		if _, dup := seen[id]; dup {
			return nil, nil, errs.Inputf(dir, 0, "id %d appears twice", id)
		}
		seen[id] = struct{}{}
	}
	if info == nil || len(info.IDs) == 0 {
		if info != nil && info.Count != len(rawIDs) {
			return nil, nil, errs.Inputf(dir, 0, "%d rows, %s says %d", len(rawIDs), recsMetaFile, info.Count)
		}
		ids := make([]string, len(rawIDs))
		for i, v := range rawIDs {
			ids[i] = strconv.FormatInt(v, 10)
		}
		return ids, f, nil
	}
	// String ids: the id column holds positions in info.IDs; put the rows
	// in that order.
	n := len(info.IDs)
	if info.Count != n || len(rawIDs) != n {
		return nil, nil, errs.Inputf(dir, 0, "%d rows, %s lists %d ids (count %d)", len(rawIDs), recsMetaFile, n, info.Count)
	}
	out := make([]float32, len(f))
	for r, pos := range rawIDs {
		if pos < 0 || pos >= int64(n) {
			return nil, nil, errs.Inputf(dir, 0, "id %d is not a position in the %d ids of %s", pos, n, recsMetaFile)
		}
		copy(out[int(pos)*rank:int(pos+1)*rank], f[r*rank:(r+1)*rank])
	}
	return slices.Clone(info.IDs), out, nil
}

// factorParts returns the names of the part files of the factor directory
// sub, sorted, after checking that it holds a _SUCCESS marker.
func (ld loader) factorParts(sub string) ([]string, error) {
	dir := ld.where(sub)
	ents, err := fs.ReadDir(ld.fsys, sub)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errs.Inputf(dir, 0, "missing: the model is incomplete")
		}
		return nil, ld.fileErr(sub, err)
	}
	var parts []string
	success := false
	for _, e := range ents {
		name := e.Name()
		switch {
		case name == "_SUCCESS":
			success = true
		case strings.HasPrefix(name, "part-") && strings.HasSuffix(name, ".parquet"):
			parts = append(parts, name)
		}
	}
	if !success {
		return nil, errs.Inputf(dir, 0, "no _SUCCESS marker: the model was not completely written")
	}
	if len(parts) == 0 {
		return nil, errs.Inputf(dir, 0, "no part-*.parquet files")
	}
	sort.Strings(parts)
	return parts, nil
}

// readFactorParts reads the part files parts of sub on up to loadWorkers()
// goroutines and returns their ids and factors concatenated in order; on
// an error it stops handing out parts and returns the first part's error.
func (ld loader) readFactorParts(sub string, parts []string, rank int) ([]int64, []float32, error) {
	type result struct {
		ids  []int64
		vals []float32
		err  error
	}
	res := make([]result, len(parts))
	next := make(chan int)
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(loadWorkers(), len(parts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				r := &res[k]
				r.ids, r.vals, r.err = ld.readFactorFile(sub+"/"+parts[k], rank)
				if r.err != nil {
					failed.Store(true)
				}
			}
		}()
	}
	for k := range parts {
		if failed.Load() {
			break // the error is reported below; the other parts need not be read
		}
		next <- k
	}
	close(next)
	wg.Wait()
	total := 0
	for _, r := range res {
		if r.err != nil {
			return nil, nil, r.err
		}
		total += len(r.ids)
	}
	rawIDs := make([]int64, 0, total)
	f := make([]float32, 0, total*rank)
	for _, r := range res {
		rawIDs = append(rawIDs, r.ids...)
		f = append(f, r.vals...)
	}
	return rawIDs, f, nil
}

// readFactorFile reads one Parquet file of (id, features) rows.
func (ld loader) readFactorFile(rel string, rank int) ([]int64, []float32, error) {
	path := ld.where(rel)
	fh, err := ld.fsys.Open(rel)
	if err != nil {
		return nil, nil, ld.fileErr(rel, err)
	}
	defer fh.Close()
	ra, ok := fh.(parquet.ReaderAtSeeker)
	if !ok {
		b, err := io.ReadAll(fh)
		if err != nil {
			return nil, nil, ld.fileErr(rel, err)
		}
		ra = bytes.NewReader(b)
	}
	tbl, err := pqarrow.ReadTable(context.Background(), ra, nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil && errs.IsService(err) {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if err != nil {
		return nil, nil, errs.Inputf(path, 0, "unreadable Parquet (truncated or corrupt?): %v", err)
	}
	defer tbl.Release()
	sc := tbl.Schema()
	idCol, featCol := sc.FieldIndices("id"), sc.FieldIndices("features")
	if len(idCol) != 1 || len(featCol) != 1 {
		return nil, nil, errs.Inputf(path, 0, "want columns id and features, have %v", sc)
	}
	var ids []int64
	for _, ch := range tbl.Column(idCol[0]).Data().Chunks() {
		if ch.NullN() > 0 {
			return nil, nil, errs.Inputf(path, 0, "null ids")
		}
		switch a := ch.(type) {
		case *array.Int32:
			for _, v := range a.Int32Values() {
				ids = append(ids, int64(v))
			}
		case *array.Int64:
			for _, v := range a.Int64Values() {
				if v < math.MinInt32 || v > math.MaxInt32 {
					return nil, nil, errs.Inputf(path, 0, "id %d is outside the int32 range of Spark ids", v)
				}
				ids = append(ids, v)
			}
		default:
			return nil, nil, errs.Inputf(path, 0, "id column has type %s, want int32", ch.DataType())
		}
	}
	f := make([]float32, 0, len(ids)*rank)
	row := 0
	for _, ch := range tbl.Column(featCol[0]).Data().Chunks() {
		lst, ok := ch.(*array.List)
		if !ok {
			return nil, nil, errs.Inputf(path, 0, "features column has type %s, want list<float32>", ch.DataType())
		}
		vals, ok := lst.ListValues().(*array.Float32)
		if !ok {
			return nil, nil, errs.Inputf(path, 0, "features column has type %s, want list<float32>", ch.DataType())
		}
		if vals.NullN() > 0 {
			return nil, nil, errs.Inputf(path, 0, "null feature values")
		}
		v := vals.Float32Values()
		for i := 0; i < lst.Len(); i++ {
			if row >= len(ids) {
				return nil, nil, errs.Inputf(path, 0, "more feature rows than ids")
			}
			if lst.IsNull(i) {
				return nil, nil, errs.Inputf(path, 0, "row %d (id %d): null features", row, ids[row])
			}
			a, b := lst.ValueOffsets(i)
			if int(b-a) != rank {
				return nil, nil, errs.Inputf(path, 0, "row %d (id %d): %d features, the model's rank is %d", row, ids[row], b-a, rank)
			}
			for _, x := range v[a:b] {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					return nil, nil, errs.Inputf(path, 0, "row %d (id %d): feature %v is not finite", row, ids[row], x)
				}
			}
			f = append(f, v[a:b]...)
			row++
		}
	}
	if row != len(ids) {
		return nil, nil, errs.Inputf(path, 0, "%d ids but %d feature rows", len(ids), row)
	}
	return ids, f, nil
}
