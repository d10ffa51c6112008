package als

// Model is a fitted factorisation: the predicted preference of user u for
// item i is the dot product of row u of UserFactors and row i of
// ItemFactors. Factors are row-major float32, Rank values per row.
//
// UserIDs and ItemIDs are the original ids, in factor-row order. A model
// read from Spark's layout has decimal int32 ids.
type Model struct {
	Rank        int
	UserIDs     []string
	ItemIDs     []string
	UserFactors []float32 // len(UserIDs) * Rank
	ItemFactors []float32 // len(ItemIDs) * Rank
}

// UserVec returns the factor row of user index u.
func (m *Model) UserVec(u int) []float32 { return m.UserFactors[u*m.Rank : (u+1)*m.Rank] }

// ItemVec returns the factor row of item index i.
func (m *Model) ItemVec(i int) []float32 { return m.ItemFactors[i*m.Rank : (i+1)*m.Rank] }
