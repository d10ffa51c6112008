package emulator

import (
	"net/http"
	"strings"
	"testing"
)

// TestEmulatorsAnswer starts both emulators and checks that each answers
// HTTP on 127.0.0.1: Azurite with a storage error (no auth), cosmosdb-server
// with its database account document.
func TestEmulatorsAnswer(t *testing.T) {
	a := Azurite(t)
	if !strings.HasPrefix(a.ServiceURL, "http://127.0.0.1:") || !strings.HasSuffix(a.ServiceURL, "/devstoreaccount1") {
		t.Errorf("ServiceURL = %q", a.ServiceURL)
	}
	resp, err := http.Get(a.ServiceURL + "?comp=list")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("x-ms-request-id") == "" {
		t.Errorf("Azurite answered %s without x-ms-request-id", resp.Status)
	}
	if again := Azurite(t); again.ServiceURL != a.ServiceURL {
		t.Errorf("second Azurite call started another server: %s vs %s", again.ServiceURL, a.ServiceURL)
	}

	c := Cosmos(t)
	resp, err = http.Get(c.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("x-ms-activity-id") == "" {
		t.Errorf("cosmosdb-server answered %s", resp.Status)
	}
	if !strings.Contains(strings.ToLower(resp.Header.Get("Connection")), "keep-alive") {
		t.Errorf("cosmosdb-server Connection: %q, want keep-alive", resp.Header.Get("Connection"))
	}
}
