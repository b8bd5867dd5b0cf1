package main

import (
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/tiles"
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

// compressAnswers gzips the API's JSON, GeoJSON, CSV and grid answers, the
// tile catalogue and TileJSON, for clients that accept gzip (read as tiles
// read it, so "gzip;q=0" is respected): a city's coverage GeoJSON is
// megabytes and field teams are on slow links. Tiles, heatmap PNGs and the
// web map's files choose their own encoding, so they are skipped. The
// fastest level: JSON still shrinks several times, at a small CPU cost.
func compressAnswers() echo.MiddlewareFunc {
	return middleware.GzipWithConfig(middleware.GzipConfig{
		Level:     gzip.BestSpeed,
		MinLength: 1024, // smaller answers fit in a packet either way
		Skipper: func(c echo.Context) bool {
			route := c.Path()
			compressed := strings.HasPrefix(route, "/api/") || route == "/tiles" || route == "/tiles/:name"
			return !compressed || !tiles.AcceptsGzip(c.Request().Header.Values(echo.HeaderAcceptEncoding))
		},
	})
}

// wellFormedQuery refuses, on the data routes, a query string Go cannot
// parse whole (a bad escape such as %zz, a semicolon separator): echo's
// QueryParams would drop the pair silently, and a filter dropped that way
// answers with more than was asked for. It scans the raw query without
// parsing it (it runs before every tile) and leaves the parse to echo,
// after the access guard has taken ?token= out.
func wellFormedQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if raw := c.Request().URL.RawQuery; raw != "" && guarded(c.Path()) {
			if at, what := queryFault(raw); what != "" {
				return geo.Invalid("query", "the query string is malformed at byte %d: %s", at, what)
			}
		}
		return next(c)
	}
}

// queryFault finds what url.ParseQuery would refuse: a semicolon, or a %
// not followed by two hex digits. It returns the offset and what is wrong,
// or "" for a query that parses.
func queryFault(raw string) (int, string) {
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case ';':
			return i, "a semicolon (parameters are separated by &)"
		case '%':
			if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
				return i, fmt.Sprintf("%q is not an escape (%% and two hex digits)", raw[i:min(i+3, len(raw))])
			}
			i += 2
		}
	}
	return 0, ""
}

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}
