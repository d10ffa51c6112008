package ratings

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// TextFormat is a plain-text layout that WriteText writes, for tools that
// do not read Parquet.
type TextFormat int

const (
	// TSV is MovieLens 100k's u.data layout: user, item, rating and (when
	// the table has times) timestamp separated by tabs, no header, one row
	// per line ending in "\n". Ids cannot hold tabs or line breaks.
	TSV TextFormat = iota
	// CSV is MovieLens 20M/25M's ratings.csv layout: the header
	// "userId,movieId,rating,timestamp" (without ",timestamp" when the
	// table has no times), comma-separated, "\n" line ends, ids quoted as
	// RFC 4180 requires when they hold a comma, a quote or a line break.
	CSV
)

func (f TextFormat) String() string {
	switch f {
	case TSV:
		return "tsv"
	case CSV:
		return "csv"
	}
	return fmt.Sprintf("TextFormat(%d)", int(f))
}

// WriteText writes the rows of t to w in format f, in table order. Ratings
// are written in the shortest form that reads back as the same float32
// ("4", "3.5"); timestamps as decimal integers. It fails (before writing
// anything) if an id cannot be represented in f, and stops with ctx's error
// when ctx is cancelled. O(rows).
func WriteText(ctx context.Context, w io.Writer, t *Table, f TextFormat) error {
	sep := byte('\t')
	if f == CSV {
		sep = ','
	} else if f != TSV {
		panic(fmt.Sprintf("ratings: WriteText: unknown format %d", int(f)))
	}
	users, err := textIDs(t.UserIDs, f, "user")
	if err != nil {
		return err
	}
	items, err := textIDs(t.ItemIDs, f, "item")
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if f == CSV {
		h := "userId,movieId,rating"
		if t.HasTimes() {
			h += ",timestamp"
		}
		bw.WriteString(h + "\n")
	}
	line := make([]byte, 0, 128)
	for r := 0; r < t.Len(); r++ {
		if r&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line = append(line[:0], users[t.Users[r]]...)
		line = append(line, sep)
		line = append(line, items[t.Items[r]]...)
		line = append(line, sep)
		line = strconv.AppendFloat(line, float64(t.Ratings[r]), 'g', -1, 32)
		if t.Times != nil {
			line = append(line, sep)
			line = strconv.AppendInt(line, t.Times[r], 10)
		}
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// textIDs returns the ids as they are written in f: checked for TSV,
// quoted where needed for CSV.
func textIDs(ids []string, f TextFormat, what string) ([]string, error) {
	out := ids
	for k, id := range ids {
		switch f {
		case TSV:
			if strings.ContainsAny(id, "\t\r\n") {
				return nil, fmt.Errorf("%s id %q holds a tab or line break: it cannot be written as TSV (use csv or parquet)", what, id)
			}
		case CSV:
			if strings.ContainsAny(id, ",\"\r\n") {
				if &out[0] == &ids[0] {
					out = append([]string(nil), ids...)
				}
				out[k] = `"` + strings.ReplaceAll(id, `"`, `""`) + `"`
			}
		}
	}
	return out, nil
}
