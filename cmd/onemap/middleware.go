package main

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/labstack/echo/v4"
)

// requestIDs returns a generator of request ids: a random prefix drawn once
// per process, then a counter. Ids stay unique across restarts and cost a
// counter increment, not a read of the system's random source per request
// (which was a visible share of a cached tile's time).
func requestIDs() func() string {
	var prefix [6]byte
	_, _ = rand.Read(prefix[:])
	p := hex.EncodeToString(prefix[:]) + "-"
	var n atomic.Uint64
	return func() string {
		return p + strconv.FormatUint(n.Add(1), 36)
	}
}

// withoutBody skips a middleware for requests that carry no body.
func withoutBody(c echo.Context) bool {
	m := c.Request().Method
	return m == http.MethodGet || m == http.MethodHead
}
