package ratings

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestWriteText(t *testing.T) {
	withTimes := mustTable(t, true, [4]string{"196", "242", "3", "881250949"}, [4]string{"186", "302", "3.5", "891717742"})
	noTimes := mustTable(t, false, [4]string{"a,b", "say \"hi\"", "0.1"}, [4]string{"c", "d", "5"})
	tests := []struct {
		name string
		tab  *Table
		f    TextFormat
		want string // u.data and ratings.csv layouts (see TSV and CSV)
	}{
		{"tsv", withTimes, TSV, "196\t242\t3\t881250949\n186\t302\t3.5\t891717742\n"},
		{"csv", withTimes, CSV, "userId,movieId,rating,timestamp\n196,242,3,881250949\n186,302,3.5,891717742\n"},
		// float32(0.1) prints as 0.1: the shortest form that reads back
		// as the same float32.
		{"csv quoting, no times", noTimes, CSV, "userId,movieId,rating\n\"a,b\",\"say \"\"hi\"\"\",0.1\nc,d,5\n"},
		{"tsv no times", mustTable(t, false, [4]string{"x y", "1", "2"}), TSV, "x y\t1\t2\n"},
		{"empty csv", mustTable(t, true), CSV, "userId,movieId,rating,timestamp\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteText(context.Background(), &buf, tc.tab, tc.f); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tc.want {
				t.Errorf("got\n%q\nwant\n%q", buf.String(), tc.want)
			}
		})
	}
	var buf bytes.Buffer
	err := WriteText(context.Background(), &buf, mustTable(t, false, [4]string{"a\tb", "1", "2"}), TSV)
	if err == nil || !strings.Contains(err.Error(), "cannot be written as TSV") || buf.Len() != 0 {
		t.Errorf("tab in id: err %v, %d bytes written", err, buf.Len())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := WriteText(ctx, &buf, withTimes, TSV); err != context.Canceled {
		t.Errorf("cancelled: %v", err)
	}
}
