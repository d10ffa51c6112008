package azure

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

func TestScrub(t *testing.T) {
	const key = "c2VjcmV0LWtleS1vZi10aGUtYWNjb3VudA=="
	const sig = "AbCdEf0123%2BsigNature%3D"
	sasURL := "https://acct.blob.core.windows.net/c/b?sv=2021-08-06&sp=rw&sig=" + sig
	inner := &url.Error{Op: "Put", URL: sasURL, Err: errors.New("connection reset by peer")}
	for _, err := range []error{
		fmt.Errorf("stage block: %w", inner),
		fmt.Errorf("bad connection string DefaultEndpointsProtocol=https;AccountName=a;AccountKey=%s;", key),
		fmt.Errorf("shared key %s rejected", key),
		fmt.Errorf("query sig=%s&se=x", sig),
	} {
		got := Scrub(err, key, "sig="+sig)
		msg := got.Error()
		if strings.Contains(msg, key) || strings.Contains(msg, "AbCdEf") {
			t.Errorf("secret left in %q", msg)
		}
		if !strings.Contains(msg, "REDACTED") {
			t.Errorf("%q: nothing marked as redacted", msg)
		}
		if !errors.Is(got, err) && !errors.Is(got, inner) {
			t.Errorf("Scrub lost the wrapped error")
		}
	}
	// The url.Error itself is cleaned too, for anyone who unwraps it.
	if strings.Contains(inner.Error(), "AbCdEf") {
		t.Errorf("url.Error still carries the SAS: %v", inner)
	}
	if Scrub(nil) != nil {
		t.Error("Scrub(nil) != nil")
	}
	plain := errors.New("nothing secret here")
	if Scrub(plain, key) != plain {
		t.Error("Scrub wrapped an error without secrets")
	}
}

func TestBrief(t *testing.T) {
	req, _ := http.NewRequest("POST", "https://acct.documents.azure.com/dbs/d/colls/c/docs?x=1", nil)
	resp := &http.Response{StatusCode: 429, Status: "429 Too Many Requests", Request: req, Header: http.Header{},
		Body: http.NoBody}
	re := &azcore.ResponseError{StatusCode: 429, ErrorCode: "TooManyRequests", RawResponse: resp}
	got := Brief(re)
	want := "POST https://acct.documents.azure.com/dbs/d/colls/c/docs: HTTP 429 TooManyRequests"
	if got != want {
		t.Errorf("Brief = %q, want %q", got, want)
	}
	if msg := Scrub(fmt.Errorf("upsert: %w", re)).Error(); msg != "upsert: "+want {
		t.Errorf("Scrub = %q", msg)
	}
}
