package export

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// outcome classifies a failed request.
type outcome int

const (
	permanent outcome = iota // give up: bad request, auth, not found…
	throttle                 // 429: wait retry-after, shrink the window
	transient                // 408, 449, 5xx, connection reset, timeout: back off and retry
)

// classify says what to do about err, returned by a request whose own
// context (not the caller's) may have timed out. retryAfter is the server's
// wait hint for throttles (0 when absent).
func classify(err error) (o outcome, status int, retryAfter time.Duration) {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		status = re.StatusCode
		switch re.StatusCode {
		case http.StatusTooManyRequests:
			if re.RawResponse != nil {
				retryAfter = parseRetryAfter(re.RawResponse.Header)
			}
			return throttle, status, retryAfter
		case http.StatusRequestTimeout, 449, http.StatusGone,
			http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return transient, status, 0
		}
		return permanent, status, 0
	}
	// No HTTP response: a transport failure (reset, refused, EOF, a
	// per-attempt timeout). The caller checks its own context first, so
	// what reaches here is the network's fault and worth retrying.
	return transient, 0, 0
}

// parseRetryAfter reads x-ms-retry-after-ms (milliseconds, Cosmos) or
// Retry-After (seconds or an HTTP date).
func parseRetryAfter(h http.Header) time.Duration {
	if v := h.Get("x-ms-retry-after-ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
			return time.Duration(s * float64(time.Second))
		}
		if t, err := http.ParseTime(v); err == nil {
			if d := time.Until(t); d > 0 {
				return d
			}
		}
	}
	return 0
}

// Backoff is an exponential backoff with full jitter: the n-th retry
// (n ≥ 1) waits a uniform random time in [0, min(Max, Base·2^(n-1))]
// (Brooker, "Exponential Backoff and Jitter", AWS Architecture Blog 2015).
// Jitter spreads the retries of many workers; it affects timing only,
// never what is written.
type Backoff struct {
	Base time.Duration // 0: 100 ms
	Max  time.Duration // 0: 10 s
}

// Delay returns the wait before retry n (n ≥ 1).
func (b Backoff) Delay(n int) time.Duration {
	base, mx := b.Base, b.Max
	if base <= 0 {
		base = 100 * time.Millisecond
	}
	if mx <= 0 {
		mx = 10 * time.Second
	}
	d := base
	for i := 1; i < n && d < mx; i++ {
		d *= 2
	}
	if d > mx {
		d = mx
	}
	return rand.N(d + 1)
}
