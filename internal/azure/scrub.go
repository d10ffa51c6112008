package azure

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
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
	msg := err.Error()
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		if long := re.Error(); strings.Contains(msg, long) {
			msg = strings.Replace(msg, long, Brief(re), 1)
		}
	}
	msg = ScrubString(msg, secrets...)
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

// Brief returns a one-line summary of an SDK response error (the SDK's own
// message spans a dozen lines): method, URL path, status, error code and
// the service's message.
func Brief(re *azcore.ResponseError) string {
	var b strings.Builder
	if r := re.RawResponse; r != nil && r.Request != nil {
		fmt.Fprintf(&b, "%s %s://%s%s: ", r.Request.Method, r.Request.URL.Scheme, r.Request.URL.Host, r.Request.URL.EscapedPath())
	}
	fmt.Fprintf(&b, "HTTP %d", re.StatusCode)
	if re.ErrorCode != "" && re.ErrorCode != fmt.Sprintf("%d %s", re.StatusCode, http.StatusText(re.StatusCode)) {
		fmt.Fprintf(&b, " %s", re.ErrorCode)
	}
	if msg := serviceMessage(re); msg != "" {
		fmt.Fprintf(&b, ": %s", msg)
	}
	return b.String()
}

// serviceMessage digs the "message" out of a JSON error body, first line
// only, at most 200 bytes.
func serviceMessage(re *azcore.ResponseError) string {
	full := re.Error()
	i := strings.Index(full, "{")
	j := strings.LastIndex(full, "}")
	if i < 0 || j < i {
		return ""
	}
	var body struct {
		Message string `json:"message"`
	}
	if json.Unmarshal([]byte(full[i:j+1]), &body) != nil {
		return ""
	}
	m, _, _ := strings.Cut(strings.TrimSpace(body.Message), "\n")
	m, _, _ = strings.Cut(m, "\r")
	if len(m) > 200 {
		m = m[:200] + "…"
	}
	return m
}
