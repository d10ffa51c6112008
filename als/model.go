package als

import "sync"

// Model is a fitted factorisation: the predicted preference of user u for
// item i is the dot product of row u of UserFactors and row i of
// ItemFactors. Factors are row-major float32, Rank values per row.
//
// UserIDs and ItemIDs are the original ids, in factor-row order. A model
// read from Spark's layout has decimal int32 ids.
//
// A model fitted with Params.Biases carries its biases folded into the last
// two columns (see Params.Biases), so the dot product is still the whole
// prediction.
type Model struct {
	Rank        int
	UserIDs     []string
	ItemIDs     []string
	UserFactors []float32 // len(UserIDs) * Rank
	ItemFactors []float32 // len(ItemIDs) * Rank

	// What recs knows about the fit (saved in recs.json beside the Spark
	// layout). A model written by Spark has no recs.json: then ID is
	// derived from the factors, Params is nil and History, DataHash empty.
	ID       string      // "als-" + 16 hex digits, derived from data, parameters and factors
	Params   *Params     // the parameters of the fit
	History  []Iteration // one entry per iteration
	DataHash string      // TableHash of the training data

	// Spark's metadata (metadata/part-00000): kept so that a model loaded
	// from Spark is saved back with its uid and settings.
	Spark SparkInfo

	idxOnce          sync.Once
	userIdx, itemIdx map[string]int32
}

// SparkInfo is the part of Spark's model metadata that recs keeps.
type SparkInfo struct {
	UID          string // e.g. "als_4f2a..." (Spark's Identifiable.randomUID)
	SparkVersion string // version that wrote the model; recs writes SparkVersion
	Timestamp    int64  // milliseconds since the epoch
	UserCol      string // Spark's userCol param (default "user")
	ItemCol      string // Spark's itemCol param (default "item")
	ColdStart    ColdStart
}

// UserVec returns the factor row of user index u.
func (m *Model) UserVec(u int) []float32 { return m.UserFactors[u*m.Rank : (u+1)*m.Rank] }

// ItemVec returns the factor row of item index i.
func (m *Model) ItemVec(i int) []float32 { return m.ItemFactors[i*m.Rank : (i+1)*m.Rank] }

// UserIndex returns the factor row of the user with original id id.
func (m *Model) UserIndex(id string) (int, bool) {
	m.buildIndex()
	i, ok := m.userIdx[id]
	return int(i), ok
}

// ItemIndex returns the factor row of the item with original id id.
func (m *Model) ItemIndex(id string) (int, bool) {
	m.buildIndex()
	i, ok := m.itemIdx[id]
	return int(i), ok
}

func (m *Model) buildIndex() {
	m.idxOnce.Do(func() {
		m.userIdx = indexOf(m.UserIDs)
		m.itemIdx = indexOf(m.ItemIDs)
	})
}

// Predict returns the predicted rating of user for item, as float32 like
// Spark. ok is false when either has no factors (Spark's cold start).
func (m *Model) Predict(user, item string) (score float32, ok bool) {
	u, ok1 := m.UserIndex(user)
	i, ok2 := m.ItemIndex(item)
	if !ok1 || !ok2 {
		return 0, false
	}
	return Dot(m.UserVec(u), m.ItemVec(i)), true
}

// Dot returns x·y accumulated in float32 in index order, as Spark's
// prediction does. len(y) must be at least len(x).
func Dot(x, y []float32) float32 {
	y = y[:len(x)]
	var s float32
	for i, v := range x {
		s += v * y[i]
	}
	return s
}
