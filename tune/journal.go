package tune

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/recs-dev/recs/internal/atomicfile"
)

// journalHeader is the first line of a journal: which search it records.
type journalHeader struct {
	Format string `json:"format"` // journalFormat
	Search string `json:"search"` // searchIdentity
}

const journalFormat = "recs-tune-journal/1"

// journal keeps completed trials in a file of JSON lines: a header, then
// one Record per line in completion order. Each record is appended with a
// single write followed by fsync, so after a crash the file holds every
// completed trial and at most one torn last line, which opening drops.
// A journal with an empty path keeps nothing.
type journal struct {
	path    string
	f       *os.File
	records map[int]Record
}

// openJournal opens or creates the journal at path for the search with the
// given identity.
func openJournal(path, identity string) (*journal, error) {
	j := &journal{path: path, records: map[int]Record{}}
	if path == "" {
		return j, nil
	}
	data, err := os.ReadFile(path)
	switch {
	case os.IsNotExist(err):
		hdr, _ := json.Marshal(journalHeader{Format: journalFormat, Search: identity})
		if err := atomicfile.WriteFile(path, func(w io.Writer) error {
			_, err := w.Write(append(hdr, '\n'))
			return err
		}); err != nil {
			return nil, fmt.Errorf("tune: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("tune: %w", err)
	default:
		good, err := j.load(data, identity)
		if err != nil {
			return nil, err
		}
		if good < len(data) { // a torn last line from an interrupted append
			if err := os.Truncate(path, int64(good)); err != nil {
				return nil, fmt.Errorf("tune: %w", err)
			}
		}
	}
	j.f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("tune: %w", err)
	}
	return j, nil
}

// load reads the records of data and returns the length of its complete,
// well-formed prefix.
func (j *journal) load(data []byte, identity string) (int, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	good, line := 0, 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		end := good + len(b) + 1
		complete := end <= len(data) && data[end-1] == '\n'
		if line == 1 {
			var h journalHeader
			if err := json.Unmarshal(b, &h); err != nil || h.Format != journalFormat {
				return 0, fmt.Errorf("tune: %s:1: not a recs tune journal", j.path)
			}
			if h.Search != identity {
				return 0, fmt.Errorf("tune: %s: %w (%s); use another output directory, or start over", j.path, ErrJournalMismatch, identityDiff(h.Search, identity))
			}
			if !complete {
				return 0, fmt.Errorf("tune: %s:1: header line is incomplete", j.path)
			}
			good = end
			continue
		}
		var r Record
		if err := json.Unmarshal(b, &r); err != nil || r.ID < 1 {
			if !complete {
				break // torn last line: drop it
			}
			return 0, fmt.Errorf("tune: %s:%d: not a trial record", j.path, line)
		}
		if !complete {
			break // a record whose newline never reached the disk: fit it again
		}
		j.records[r.ID] = r
		good = end
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("tune: %s: %w", j.path, err)
	}
	return good, nil
}

// lookup returns the journalled record of trial id.
func (j *journal) lookup(id int) (Record, bool) {
	r, ok := j.records[id]
	return r, ok
}

// append writes r as one line and syncs it to disk.
func (j *journal) append(r Record) error {
	j.records[r.ID] = r
	if j.f == nil {
		return nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("tune: trial %d: %w", r.ID, err)
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("tune: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("tune: %w", err)
	}
	return nil
}

func (j *journal) close() {
	if j.f != nil {
		j.f.Close()
	}
}

// identityDiff describes how two search identities differ: the keys whose
// values changed, with both values when they are short.
func identityDiff(was, now string) string {
	parse := func(s string) (keys []string, vals map[string]string) {
		vals = map[string]string{}
		for _, line := range strings.Split(s, "\n") {
			k, v, _ := strings.Cut(line, "=")
			keys = append(keys, k)
			vals[k] = v
		}
		return keys, vals
	}
	_, a := parse(was)
	keys, b := parse(now)
	var diffs []string
	for _, k := range keys {
		if a[k] == b[k] {
			continue
		}
		if len(a[k]) <= 20 && len(b[k]) <= 20 {
			diffs = append(diffs, fmt.Sprintf("%s %s, now %s", k, a[k], b[k]))
		} else {
			diffs = append(diffs, k+" differs")
		}
	}
	if len(diffs) == 0 {
		return "a different format"
	}
	return strings.Join(diffs, "; ")
}
