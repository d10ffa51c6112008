package ratings

// Builder accumulates rows keyed by original ids and assigns dense indices
// in order of first appearance. It is not safe for concurrent use.
type Builder struct {
	t      Table
	users  map[string]int32
	items  map[string]int32
	noTime bool
}

// NewBuilder returns an empty builder. withTimes says whether rows carry
// timestamps.
func NewBuilder(withTimes bool) *Builder {
	b := &Builder{users: map[string]int32{}, items: map[string]int32{}, noTime: !withTimes}
	if withTimes {
		b.t.Times = []int64{}
	}
	return b
}

// Add appends one row. ts is ignored when the builder has no timestamps.
func (b *Builder) Add(user, item string, rating float32, ts int64) {
	u, ok := b.users[user]
	if !ok {
		u = int32(len(b.t.UserIDs))
		b.users[user] = u
		b.t.UserIDs = append(b.t.UserIDs, user)
	}
	i, ok := b.items[item]
	if !ok {
		i = int32(len(b.t.ItemIDs))
		b.items[item] = i
		b.t.ItemIDs = append(b.t.ItemIDs, item)
	}
	b.t.Users = append(b.t.Users, u)
	b.t.Items = append(b.t.Items, i)
	b.t.Ratings = append(b.t.Ratings, rating)
	if !b.noTime {
		b.t.Times = append(b.t.Times, ts)
	}
}

// Len returns the number of rows added so far.
func (b *Builder) Len() int { return len(b.t.Users) }

// Table returns the table built so far. The builder must not be used after.
func (b *Builder) Table() *Table {
	t := &Table{UserIDs: b.t.UserIDs, ItemIDs: b.t.ItemIDs, Users: b.t.Users,
		Items: b.t.Items, Ratings: b.t.Ratings, Times: b.t.Times}
	if t.UserIDs == nil {
		t.UserIDs, t.ItemIDs = []string{}, []string{}
	}
	return t
}
