package azure

import (
	"net/http"
	"sync/atomic"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Counts counts the requests an SDK client made: calls (operations),
// attempts (each try of a call, so Attempts-Calls are retries) and 429
// responses.
type Counts struct {
	Calls, Attempts, Throttles atomic.Int64
}

// Retries returns Attempts - Calls.
func (c *Counts) Retries() int64 { return c.Attempts.Load() - c.Calls.Load() }

type callPolicy struct{ c *Counts }

func (p callPolicy) Do(req *policy.Request) (*http.Response, error) {
	p.c.Calls.Add(1)
	return req.Next()
}

type attemptPolicy struct{ c *Counts }

func (p attemptPolicy) Do(req *policy.Request) (*http.Response, error) {
	p.c.Attempts.Add(1)
	resp, err := req.Next()
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		p.c.Throttles.Add(1)
	}
	return resp, err
}

// CountingPolicies returns a per-call and a per-retry policy that count into
// c; put them in azcore.ClientOptions PerCallPolicies and PerRetryPolicies.
func CountingPolicies(c *Counts) (perCall, perRetry policy.Policy) {
	return callPolicy{c}, attemptPolicy{c}
}
