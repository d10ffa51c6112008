package ingest

import (
	"bytes"
	"fmt"
	"github.com/recs-dev/recs/internal/errs"
	"strconv"
	"strings"
)

// Well-known column names, compared after lower-casing and dropping '_',
// '-' and ' ' (so "userId", "user_id" and "User ID" all match "userid").
var knownColumns = map[string][]string{
	"user":   {"userid", "user", "uid", "customerid", "reviewerid", "visitorid"},
	"item":   {"movieid", "itemid", "item", "movie", "iid", "productid", "asin", "trackid", "bookid"},
	"rating": {"rating", "score", "stars", "overall", "value", "count", "weight"},
	"time":   {"timestamp", "time", "ts", "unixtime", "unixreviewtime", "datetime"},
}

func normName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == ' ' {
			return -1
		}
		return r
	}, s)
}

// detectLayout decides how to read a source from its first non-blank line
// and the options. name is used in error messages only.
func detectLayout(first []byte, name string, o *Options) (*layout, error) {
	lay := &layout{format: o.Format}
	sep, err := layoutSep(first, name, o)
	if err != nil {
		return nil, err
	}
	lay.sep = sep
	fields, err := splitFirstLine(first, lay.sep, name)
	if err != nil {
		return nil, err
	}
	specs := [4]string{o.UserCol, o.ItemCol, o.RatingCol, o.TimeCol}
	named := false
	for _, s := range specs {
		if s != "" && s != NoColumn {
			if _, err := strconv.Atoi(s); err != nil {
				named = true
			}
		}
	}
	lay.header = hasHeader(o, named, fields)
	if named && !lay.header {
		return nil, fmt.Errorf("columns given by name need a header line (use 0-based indices with --no-header)")
	}
	if err := lay.placeColumns(specs, fields, name); err != nil {
		return nil, err
	}
	if lay.format == FormatAuto {
		switch {
		case string(lay.sep) == "\t" && !lay.header:
			lay.format = FormatUData
		case string(lay.sep) == "::" && !lay.header:
			lay.format = FormatDat
		case string(lay.sep) == "," && lay.header:
			lay.format = FormatCSV
		default:
			lay.format = FormatDelimited
		}
	}
	return lay, nil
}

// layoutSep returns the field separator: the format's, --sep, or (for
// neither) the one detected in the first line.
func layoutSep(first []byte, name string, o *Options) ([]byte, error) {
	var sep []byte
	switch o.Format {
	case FormatUData:
		sep = []byte("\t")
	case FormatDat:
		sep = []byte("::")
	case FormatCSV:
		sep = []byte(",")
	}
	if o.Sep != "" {
		if o.Format == FormatUData || o.Format == FormatDat {
			if o.Sep != string(sep) {
				return nil, fmt.Errorf("format %s uses separator %q, not %q", o.Format, sep, o.Sep)
			}
		}
		sep = []byte(o.Sep)
	}
	if sep == nil {
		s, ok := detectSep(first)
		if !ok {
			return nil, errs.Inputf(name, 1, "cannot tell the field separator from the first line %q; give --sep (or --format)", clip(first))
		}
		sep = s
	}
	return sep, nil
}

// splitFirstLine splits the first line as a header would be split (all
// fields).
func splitFirstLine(first, sep []byte, name string) ([]string, error) {
	probe := &parser{lay: &layout{sep: sep, need: 1 << 16}, fields: make([][]byte, 1<<16)}
	nf, msg := probe.split(first)
	if msg != "" {
		return nil, errs.Inputf(name, 1, "%s", msg)
	}
	fields := make([]string, nf)
	for i := range fields {
		fields[i] = string(probe.fields[i])
	}
	return fields, nil
}

// hasHeader reports whether the first line, split into fields, is a header:
// as the options say, else never for u.data and .dat, always when a column
// is given by name (named), else when the rating column is not a number.
func hasHeader(o *Options, named bool, fields []string) bool {
	switch o.Header {
	case HeaderYes:
		return true
	case HeaderNo:
		return false
	}
	switch {
	case o.Format == FormatUData || o.Format == FormatDat:
		return false
	case named:
		return true
	default:
		ri := 2
		if i, err := strconv.Atoi(o.RatingCol); err == nil {
			ri = i
		}
		return ri >= len(fields) || !looksNumeric(fields[ri])
	}
}

// placeColumns resolves the columns of the user, item, rating and time
// specs (in that order) against the first line's fields, and sets need.
func (lay *layout) placeColumns(specs [4]string, fields []string, name string) error {
	roles := [4]string{"user", "item", "rating", "time"}
	// Without a header the time column defaults to column 3 only when no
	// other column was placed by hand.
	explicit := specs[0] != "" || specs[1] != "" || specs[2] != ""
	var cols [4]int
	for k, role := range roles {
		spec := specs[k]
		if role == "time" && spec == "" && explicit && !lay.header {
			spec = NoColumn
		}
		c, err := resolveColumn(role, spec, fields, lay.header)
		if err != nil {
			return errs.Inputf(name, 1, "%v", err)
		}
		cols[k] = c
	}
	lay.user, lay.item, lay.rating, lay.time = cols[0], cols[1], cols[2], cols[3]
	for i := 0; i < 4; i++ {
		for j := i + 1; j < 4; j++ {
			if cols[i] >= 0 && cols[i] == cols[j] {
				return fmt.Errorf("the %s and %s columns are both column %d", roles[i], roles[j], cols[i])
			}
		}
	}
	for _, c := range cols {
		if c+1 > lay.need {
			lay.need = c + 1
		}
	}
	return nil
}

// detectSep picks "::" if present, else the most frequent of tab, comma,
// semicolon and bar in the line.
func detectSep(line []byte) ([]byte, bool) {
	if bytes.Contains(line, []byte("::")) {
		return []byte("::"), true
	}
	best, bestN := byte(0), 0
	for _, c := range []byte{'\t', ',', ';', '|'} {
		if n := bytes.Count(line, []byte{c}); n > bestN {
			best, bestN = c, n
		}
	}
	if bestN == 0 {
		return nil, false
	}
	return []byte{best}, true
}

// resolveColumn maps the column spec of role to a 0-based index.
func resolveColumn(role, spec string, header []string, hasHeader bool) (int, error) {
	flag := "--" + role + "-col"
	if spec == NoColumn {
		if role != "time" {
			return 0, fmt.Errorf("the %s column is required", role)
		}
		return -1, nil
	}
	defaults := map[string]int{"user": 0, "item": 1, "rating": 2, "time": 3}
	if !hasHeader {
		if spec == "" {
			c := defaults[role]
			if role == "time" && len(header) <= c {
				return -1, nil
			}
			return c, nil
		}
		c, err := strconv.Atoi(spec)
		if err != nil || c < 0 {
			return 0, fmt.Errorf("%s %q: without a header, columns are 0-based indices", flag, spec)
		}
		return c, nil
	}
	if spec != "" {
		for i, h := range header {
			if h == spec {
				return i, nil
			}
		}
		for i, h := range header {
			if strings.EqualFold(strings.TrimSpace(h), spec) {
				return i, nil
			}
		}
		if c, err := strconv.Atoi(spec); err == nil && c >= 0 {
			return c, nil
		}
		return 0, fmt.Errorf("%s %q is not a column of the header %q", flag, spec, header)
	}
	for _, want := range knownColumns[role] {
		for i, h := range header {
			if normName(h) == want {
				return i, nil
			}
		}
	}
	if role == "time" {
		return -1, nil
	}
	return 0, fmt.Errorf("no %s column in the header %q; name it with %s", role, header, flag)
}

// looksNumeric tells a data line's rating field from a header's column
// name: a number starts with a digit, a sign or a point.
func looksNumeric(f string) bool {
	f = strings.TrimSpace(f)
	return f != "" && strings.ContainsRune("0123456789+-.", rune(f[0]))
}
