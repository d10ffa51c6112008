package serve

import "regexp"

// secretPattern matches credentials that can appear in URLs, connection
// strings and SDK error messages: SAS signatures, account keys, bearer
// tokens and Cosmos master-key authorization headers.
var secretPattern = regexp.MustCompile(`(?i)((?:sig|signature|accountkey|sharedaccesssignature|access_token|code)=)[^&;\s"']+|(bearer\s+)[A-Za-z0-9._~+/=-]+|(type%3dmaster%26ver%3d1\.0%26sig%3d)[^&\s"']+|(type=master&ver=1\.0&sig=)[^&\s"']+`)

// Redact removes credentials from s (a URL, a connection string or an
// error message) so that it can be logged.
func Redact(s string) string {
	return secretPattern.ReplaceAllStringFunc(s, func(m string) string {
		sub := secretPattern.FindStringSubmatch(m)
		for _, p := range sub[1:] {
			if p != "" {
				return p + "REDACTED"
			}
		}
		return "REDACTED"
	})
}
