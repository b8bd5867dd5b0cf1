package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/tiles"
)

// Access tokens guard the city's data. Premises with their red tags, open
// hazards and where hydrants are out of service are not for everyone, so a
// deployment may require a token (ONEMAP_ACCESS_TOKENS) for every tile and
// /api answer. A client shows it in one of three ways:
//   - Authorization: Bearer <token> (scripts, QGIS with an auth header);
//   - ?token=<token> on any URL (GDAL, MapLibre styles, download links): the
//     catalogue and TileJSON then hand out URLs that carry it;
//   - the onemap_token cookie, which the web map obtains once (POST
//     /api/v1/session, or opening the page at /?token=…), so that every
//     request the page and MapLibre's worker make carries it by itself.
//
// The page, its files, /healthz, /readyz and /metrics stay open: the page
// holds no data and asks for a token when the server wants one.
const (
	accessCookie = "onemap_token"
	accessParam  = "token"
	sessionRoute = "/api/v1/session"
)

// tokenPattern is what a token may be made of: enough characters to be
// unguessable, and only ones a URL and a cookie carry as they are.
var tokenPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{16,256}$`)

// accessGuard checks tokens against the configured ones; nil or empty lets
// everything through.
type accessGuard struct {
	sums [][sha256.Size]byte
}

func newAccessGuard(tokens string) *accessGuard {
	g := &accessGuard{}
	for _, t := range splitList(tokens) {
		g.sums = append(g.sums, sha256.Sum256([]byte(t)))
	}
	return g
}

func (g *accessGuard) enabled() bool { return g != nil && len(g.sums) > 0 }

// valid compares in constant time with every configured token: the time an
// answer takes says nothing about how close a guess was.
func (g *accessGuard) valid(token string) bool {
	sum := sha256.Sum256([]byte(token))
	ok := 0
	for _, s := range g.sums {
		ok |= subtle.ConstantTimeCompare(sum[:], s[:])
	}
	return token != "" && ok == 1
}

// guarded reports whether a route serves the city's data.
func guarded(route string) bool {
	return route != sessionRoute && (route == "/tiles" || strings.HasPrefix(route, "/tiles/") || strings.HasPrefix(route, "/api/"))
}

// middleware asks guarded routes for a valid token. A token that came in
// the query is taken out of it (handlers refuse parameters they do not
// know) and left in the context for the URLs a catalogue hands out. With
// tokens on, answers are private to the client: a shared cache must not give
// one client's tiles to another without a token.
func (g *accessGuard) middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if !g.enabled() {
			return next
		}
		return func(c echo.Context) error {
			r := c.Request()
			if !guarded(c.Path()) {
				if tok := r.URL.Query().Get(accessParam); tok != "" && c.Path() == "/*" && r.Method == http.MethodGet && g.valid(tok) {
					// The page opened with ?token=…: keep it as a cookie and
					// take it out of the address bar (and of history).
					g.setCookie(c, tok)
					u := *r.URL
					u.RawQuery = withoutParam(u.RawQuery, accessParam)
					// One leading slash: "//host/" would send the browser
					// to another site (an open redirect on the city's name).
					u.Path, u.RawPath = "/"+strings.TrimLeft(u.Path, "/"), ""
					c.Response().Header().Set("Cache-Control", "no-store")
					return c.Redirect(http.StatusSeeOther, u.RequestURI())
				}
				return next(c)
			}
			tok, via := g.token(r)
			if !g.valid(tok) {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="onemap"`)
				what := "no access token was given"
				if tok != "" {
					what = "the access token is not valid"
				}
				return &geo.Error{Code: geo.EUnauthorized, Detail: accessParam,
					Message: what + ": this server needs one, as Authorization: Bearer <token>, ?token=<token> or the web map's sign-in"}
			}
			if via == viaCookie && !readOnly(r.Method) && !sameOrigin(r) {
				// A cookie goes with every request the browser makes to us,
				// whoever asked for it: a write must come from our own page.
				return &geo.Error{Code: geo.EForbidden, Detail: "Origin",
					Message: "a request signed in by the web map's cookie must come from this server's own page"}
			}
			// Handlers refuse parameters they do not know: the token leaves
			// the query whichever credential was used.
			if r.URL.Query().Has(accessParam) {
				r.URL.RawQuery = withoutParam(r.URL.RawQuery, accessParam)
			}
			if via == viaQuery {
				c.Set(tiles.AccessTokenKey, tok)
			}
			res := c.Response()
			res.Before(func() {
				if cc := res.Header().Get("Cache-Control"); cc != "" {
					res.Header().Set("Cache-Control", privateCache(cc))
				}
			})
			return next(c)
		}
	}
}

// Where a request's token came from.
const (
	viaNone = iota
	viaHeader
	viaQuery
	viaCookie
)

// token finds the request's token: the Authorization header first (its
// scheme read case-insensitively, RFC 9110 §11.1), then the query, then the
// cookie.
func (g *accessGuard) token(r *http.Request) (token string, via int) {
	if scheme, t, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(t), viaHeader
	}
	if ts := r.URL.Query()[accessParam]; len(ts) > 0 && ts[0] != "" {
		if len(ts) > 1 {
			// Two tokens: which one is meant? Neither is taken.
			return "", viaQuery
		}
		return ts[0], viaQuery
	}
	if ck, err := r.Cookie(accessCookie); err == nil {
		return ck.Value, viaCookie
	}
	return "", viaNone
}

func readOnly(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// sameOrigin reports whether a browser says the request comes from a page
// of this server: Sec-Fetch-Site where the browser sends it, else Origin
// against Host. A request with neither is not a browser's and carries no
// ambient cookie risk.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin" || site == "none"
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// privateCache turns a Cache-Control value's public directive into private
// and drops s-maxage (for shared caches only), keeping the rest.
func privateCache(cc string) string {
	if cc == "" {
		return ""
	}
	var out []string
	for _, d := range strings.Split(cc, ",") {
		d = strings.TrimSpace(d)
		name, _, _ := strings.Cut(d, "=")
		switch strings.ToLower(name) {
		case "public":
			d = "private"
		case "s-maxage":
			continue
		}
		out = append(out, d)
	}
	return strings.Join(out, ", ")
}

func (g *accessGuard) setCookie(c echo.Context, token string) {
	r := c.Request()
	c.SetCookie(&http.Cookie{
		Name: accessCookie, Value: token, Path: "/", MaxAge: int((30 * 24 * time.Hour).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"),
	})
}

// signIn answers POST /api/v1/session {"token": "…"}: 204 and the cookie for
// a valid token, 401 otherwise. DELETE signs out.
func (g *accessGuard) signIn(c echo.Context) error {
	var body struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, 4096)).Decode(&body); err != nil {
		return geo.Invalid("body", "want a JSON object {\"token\": \"…\"}: %v", err)
	}
	if !g.enabled() {
		return c.NoContent(http.StatusNoContent) // nothing to sign in to
	}
	if !sameOrigin(c.Request()) {
		// Another site must not sign a visitor in under its own token.
		return &geo.Error{Code: geo.EForbidden, Detail: "Origin", Message: "sign in from this server's own page"}
	}
	if !g.valid(body.Token) {
		return &geo.Error{Code: geo.EUnauthorized, Message: "the access token is not valid", Detail: accessParam}
	}
	g.setCookie(c, body.Token)
	return c.NoContent(http.StatusNoContent)
}

func (g *accessGuard) signOut(c echo.Context) error {
	if !sameOrigin(c.Request()) {
		// Another site must not sign a visitor out either.
		return &geo.Error{Code: geo.EForbidden, Detail: "Origin", Message: "sign out from this server's own page"}
	}
	c.SetCookie(&http.Cookie{Name: accessCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return c.NoContent(http.StatusNoContent)
}

// withoutParam removes every name=… from a raw query, leaving the rest as
// it was written.
func withoutParam(rawQuery, name string) string {
	parts := strings.Split(rawQuery, "&")
	kept := parts[:0]
	for _, p := range parts {
		if p == "" || isParam(p, name) {
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "&")
}

// redactToken hides an access token in a logged request URI, however its
// name was escaped (the guard accepts ?%74oken= as url.Query reads it).
func redactToken(uri string) string {
	path, query, ok := strings.Cut(uri, "?")
	if !ok {
		return uri
	}
	parts := strings.Split(query, "&")
	for i, p := range parts {
		if isParam(p, accessParam) {
			parts[i] = accessParam + "=[redacted]"
		}
	}
	return path + "?" + strings.Join(parts, "&")
}

// isParam reports whether one name=value part of a raw query is name's.
func isParam(part, name string) bool {
	k, _, _ := strings.Cut(part, "=")
	key, err := url.QueryUnescape(k)
	return err == nil && key == name
}

// validTokens checks ONEMAP_ACCESS_TOKENS.
func validTokens(tokens string) error {
	for i, t := range splitList(tokens) {
		if !tokenPattern.MatchString(t) {
			return fmt.Errorf("ONEMAP_ACCESS_TOKENS / --access-tokens: token %d: want 16 to 256 characters of A-Z, a-z, 0-9 and . _ ~ -", i+1)
		}
	}
	return nil
}
