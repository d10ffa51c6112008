package azure

import (
	"errors"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Scrub returns err with secrets removed from its message: the query of
// every URL in it (a SAS), sig=… and AccountKey=… values, and each of the
// given secret strings (also in URL-escaped form). errors.Is and errors.As
// still reach the original error through Unwrap; its own message must then
// not be printed. Scrub(nil) is nil.
func Scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	// Strip the query from url.Error values in place, so that even the
	// wrapped error no longer carries a SAS.
	var ue *url.Error
	if errors.As(err, &ue) {
		if i := strings.IndexByte(ue.URL, '?'); i >= 0 {
			ue.URL = ue.URL[:i] + "?REDACTED"
		}
	}
	msg := ScrubString(err.Error(), secrets...)
	if msg == err.Error() {
		return err
	}
	return &scrubbed{msg: msg, err: err}
}

var (
	urlQuery   = regexp.MustCompile(`(https?://[^\s"'?]*)\?[^\s"']*`)
	sigParam   = regexp.MustCompile(`(?i)(sig=)[^&\s"']+`)
	keySetting = regexp.MustCompile(`(?i)((?:AccountKey|SharedAccessSignature|Key)=)[^;\s"']+`)
)

// ScrubString removes secrets from s as Scrub does.
func ScrubString(s string, secrets ...string) string {
	s = urlQuery.ReplaceAllString(s, "$1?REDACTED")
	s = sigParam.ReplaceAllString(s, "${1}REDACTED")
	s = keySetting.ReplaceAllString(s, "${1}REDACTED")
	// Longest first, so a secret containing another is removed whole.
	ss := append([]string(nil), secrets...)
	sort.Slice(ss, func(i, j int) bool { return len(ss[i]) > len(ss[j]) })
	for _, sec := range ss {
		if len(sec) < 8 { // too short to be a secret; replacing would mangle the text
			continue
		}
		s = strings.ReplaceAll(s, sec, "REDACTED")
		if esc := url.QueryEscape(sec); esc != sec {
			s = strings.ReplaceAll(s, esc, "REDACTED")
		}
	}
	return s
}

type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }
