package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

// TestAccessTokens: with ONEMAP_ACCESS_TOKENS set, the city's data (tiles
// and /api) needs one of the tokens, shown as a bearer header, a query
// parameter or the web map's cookie; the page and health checks stay open.
func TestAccessTokens(t *testing.T) {
	loadDemo(t)
	const planner, gis = "planner-0123456789abcdef", "gis.team_0123456789~ABC"
	cfg := testConfig()
	cfg.AccessTokens = planner + ", " + gis
	e := newServer(cfg, postgistest.DB(t), quiet).Echo
	core, _ := coreTile(t)
	tile := fmt.Sprintf("/tiles/premises/%d/%d/%d.mvt", core.Z, core.X, core.Y)

	send := func(method, target, body string, header map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		for k, v := range header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	cookie := func(tok string) map[string]string { return map[string]string{"Cookie": accessCookie + "=" + tok} }

	cases := []struct {
		name, target string
		header       map[string]string
		status       int
	}{
		{"tile without a token", tile, nil, 401},
		{"tile with a wrong bearer token", tile, bearer("planner-0123456789abcdeX"), 401},
		{"tile with a wrong query token", tile + "?token=nope-nope-nope-nope", nil, 401},
		{"tile with a bearer token", tile, bearer(planner), 200},
		{"tile with the other token", tile, bearer(gis), 200},
		{"tile with a query token (not an unknown parameter)", tile + "?token=" + gis, nil, 200},
		{"filtered tile with a query token", tile + "?tag=red&token=" + planner + "&kind=group_rental", nil, 200},
		{"tile with the cookie", tile, cookie(planner), 200},
		{"tile with a wrong cookie", tile, cookie("wrong-but-well-formed-token"), 401},
		{"bearer scheme in lower case", tile, map[string]string{"Authorization": "bearer " + planner}, 200},
		{"a bearer token and a stale ?token= (not an unknown parameter)", tile + "?token=old-old-old-old-old", bearer(planner), 200},
		{"an escaped parameter name is the same parameter", tile + "?%74oken=" + planner, nil, 200},
		{"two query tokens, good first", tile + "?token=" + planner + "&token=nope-nope-nope-nope", nil, 401},
		{"two query tokens, good last", tile + "?token=nope-nope-nope-nope&token=" + planner, nil, 401},
		{"catalogue without a token", "/tiles", nil, 401},
		{"TileJSON without a token", "/tiles/premises.json", nil, 401},
		{"API without a token", "/api/v1/layers", nil, 401},
		{"API with a token", "/api/v1/layers", bearer(planner), 200},
		{"a bad filter still says which", tile + "?tag=purple&token=" + planner, nil, 400},
		{"heatmap without a token", fmt.Sprintf("/tiles/heatmap/%d/%d/%d.png?layer=hazards", core.Z, core.X, core.Y), nil, 401},
		{"the page is open", "/", nil, 200},
		{"health is open", "/healthz", nil, 200},
		{"readiness is open", "/readyz", nil, 200},
		{"metrics are open", "/metrics", nil, 200},
	}
	for _, tc := range cases {
		rec := send(http.MethodGet, tc.target, "", tc.header)
		if rec.Code != tc.status {
			t.Errorf("%s: GET %s: %d, want %d (%s)", tc.name, tc.target, rec.Code, tc.status, rec.Body)
			continue
		}
		switch tc.status {
		case 401:
			var body errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || !strings.Contains(body.Error, "token") || body.Detail != "token" {
				t.Errorf("%s: 401 body %s: want a JSON error about the token", tc.name, rec.Body)
			}
			if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: 401 without WWW-Authenticate: Bearer", tc.name)
			}
		case 200:
			if strings.HasPrefix(tc.target, "/tiles/") && !strings.HasPrefix(rec.Header().Get("Cache-Control"), "private") {
				t.Errorf("%s: Cache-Control %q: a guarded tile must not go into shared caches", tc.name, rec.Header().Get("Cache-Control"))
			}
		}
	}

	// An answer without Cache-Control gets none (not an empty one).
	if rec := send(http.MethodGet, "/api/v1/layers", "", bearer(planner)); len(rec.Header().Values("Cache-Control")) == 1 && rec.Header().Get("Cache-Control") == "" {
		t.Error("an empty Cache-Control header was added")
	}
	// Gzip-compressed answers are private too.
	if rec := send(http.MethodGet, "/api/v1/layers", "", map[string]string{"Authorization": "Bearer " + planner, "Accept-Encoding": "gzip"}); rec.Code != 200 ||
		rec.Header().Get("Content-Encoding") != "gzip" || strings.Contains(rec.Header().Get("Cache-Control"), "public") {
		t.Errorf("gzip answer: %d, Content-Encoding %q, Cache-Control %q", rec.Code, rec.Header().Get("Content-Encoding"), rec.Header().Get("Cache-Control"))
	}
	for in, want := range map[string]string{
		"public, max-age=60": "private, max-age=60", "max-age=60, public, s-maxage=600": "max-age=60, private", "no-store": "no-store", "": "",
	} {
		if got := privateCache(in); got != want {
			t.Errorf("privateCache(%q) = %q, want %q", in, got, want)
		}
	}

	// A write signed in by the cookie must come from our own page; a
	// bearer token is no ambient credential and needs no such check.
	siting := "/api/v1/siting/hydrants"
	for _, tc := range []struct {
		name   string
		header map[string]string
		status int
	}{
		{"cookie, another site", map[string]string{"Cookie": accessCookie + "=" + planner, "Sec-Fetch-Site": "cross-site"}, 403},
		{"cookie, a sibling subdomain", map[string]string{"Cookie": accessCookie + "=" + planner, "Sec-Fetch-Site": "same-site"}, 403},
		{"cookie, another Origin (no Sec-Fetch-Site)", map[string]string{"Cookie": accessCookie + "=" + planner, "Origin": "https://evil.example"}, 403},
		{"cookie, our own page", map[string]string{"Cookie": accessCookie + "=" + planner, "Sec-Fetch-Site": "same-origin"}, 400},
		{"bearer, another site", map[string]string{"Authorization": "Bearer " + planner, "Sec-Fetch-Site": "cross-site"}, 400},
	} {
		// The body is not JSON: past the guard the handler answers 400.
		if rec := send(http.MethodPost, siting, "count=1", tc.header); rec.Code != tc.status {
			t.Errorf("POST %s, %s: %d, want %d (%s)", siting, tc.name, rec.Code, tc.status, rec.Body)
		}
	}
	if rec := send(http.MethodPost, "/api/v1/session", `{"token": "`+planner+`"}`, map[string]string{"Sec-Fetch-Site": "cross-site"}); rec.Code != 403 || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("sign-in from another site: %d, Set-Cookie %q", rec.Code, rec.Header().Get("Set-Cookie"))
	}

	// CORS preflight needs no token (browsers send none with it).
	if rec := send(http.MethodOptions, tile, "", map[string]string{"Origin": "https://gis.example.org", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}); rec.Code != http.StatusNoContent {
		t.Errorf("preflight: %d, want 204", rec.Code)
	}

	// A query token is handed on in the URLs the catalogue and TileJSON give.
	rec := send(http.MethodGet, "/tiles?token="+gis, "", nil)
	var cat struct {
		Layers []struct{ TileJSON, Tiles string } `json:"layers"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &cat); err != nil || len(cat.Layers) == 0 {
		t.Fatalf("catalogue: %v %s", err, rec.Body)
	}
	for _, l := range cat.Layers {
		if !strings.HasSuffix(l.TileJSON, "token="+gis) || !strings.Contains(l.Tiles, "token="+gis) {
			t.Errorf("catalogue URLs without the token: %s, %s", l.TileJSON, l.Tiles)
		}
	}
	rec = send(http.MethodGet, "/tiles/premises.json?tag=red&token="+gis, "", nil)
	var tj struct{ Tiles []string }
	if err := json.Unmarshal(rec.Body.Bytes(), &tj); err != nil || len(tj.Tiles) != 1 || !strings.Contains(tj.Tiles[0], "tag=red") || !strings.HasSuffix(tj.Tiles[0], "token="+gis) {
		t.Errorf("TileJSON tiles %v (%v): want the filter and the token carried", tj.Tiles, err)
	}
	if cc := rec.Header().Get("Cache-Control"); !strings.HasPrefix(cc, "private") {
		t.Errorf("TileJSON carrying a token: Cache-Control %q, want private", cc)
	}
	// A bearer token is not written into URLs.
	rec = send(http.MethodGet, "/tiles/premises.json", "", bearer(planner))
	if strings.Contains(rec.Body.String(), planner) {
		t.Error("a bearer token was written into the TileJSON")
	}

	// The web map's sign-in: a cookie for a valid token, only.
	rec = send(http.MethodPost, "/api/v1/session", `{"token": "`+planner+`"}`, map[string]string{"Content-Type": "application/json"})
	setCookie := rec.Header().Get("Set-Cookie")
	if rec.Code != http.StatusNoContent || !strings.Contains(setCookie, accessCookie+"="+planner) || !strings.Contains(setCookie, "HttpOnly") || !strings.Contains(setCookie, "SameSite=Strict") {
		t.Errorf("sign-in: %d, Set-Cookie %q", rec.Code, setCookie)
	}
	if rec := send(http.MethodPost, "/api/v1/session", `{"token": "wrong-wrong-wrong-wrong"}`, nil); rec.Code != 401 || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("sign-in with a wrong token: %d, Set-Cookie %q", rec.Code, rec.Header().Get("Set-Cookie"))
	}
	if rec := send(http.MethodPost, "/api/v1/session", `token=x`, nil); rec.Code != 400 {
		t.Errorf("sign-in with a body that is not JSON: %d, want 400", rec.Code)
	}
	if rec := send(http.MethodDelete, "/api/v1/session", "", map[string]string{"Origin": "https://evil.example"}); rec.Code != 403 || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("sign-out from another site: %d, Set-Cookie %q; want 403 and none", rec.Code, rec.Header().Get("Set-Cookie"))
	}
	if rec := send(http.MethodDelete, "/api/v1/session", "", nil); rec.Code != http.StatusNoContent || !strings.Contains(rec.Header().Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("sign-out: %d, Set-Cookie %q", rec.Code, rec.Header().Get("Set-Cookie"))
	}
	// Opening the page with ?token= keeps it as the cookie and takes it out of the address.
	rec = send(http.MethodGet, "/?lang=en&token="+planner, "", nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/?lang=en" || !strings.Contains(rec.Header().Get("Set-Cookie"), accessCookie+"="+planner) {
		t.Errorf("page with a token: %d, Location %q, Set-Cookie %q", rec.Code, rec.Header().Get("Location"), rec.Header().Get("Set-Cookie"))
	}
	// No open redirect: "//host/" stays a path on this server.
	rec = send(http.MethodGet, "//evil.example/?token="+planner, "", nil)
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || strings.HasPrefix(loc, "//") || !strings.HasPrefix(loc, "/") {
		t.Errorf("page //evil.example/ with a token: %d, Location %q", rec.Code, loc)
	}
	if rec := send(http.MethodGet, "/?token="+planner, "", map[string]string{"X-Forwarded-Proto": "https"}); !strings.Contains(rec.Header().Get("Set-Cookie"), "Secure") {
		t.Errorf("over https: Set-Cookie %q, want Secure", rec.Header().Get("Set-Cookie"))
	}
	if rec := send(http.MethodGet, "/?token=wrong-wrong-wrong-wrong", "", nil); rec.Code != 200 || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("page with a wrong token: %d, Set-Cookie %q: want the page, no cookie", rec.Code, rec.Header().Get("Set-Cookie"))
	}

	// Without tokens configured everything is open, as before.
	open := newServer(testConfig(), postgistest.DB(t), quiet).Echo
	req := httptest.NewRequest(http.MethodGet, tile, nil)
	rr := httptest.NewRecorder()
	open.ServeHTTP(rr, req)
	if rr.Code != 200 || !strings.HasPrefix(rr.Header().Get("Cache-Control"), "public") {
		t.Errorf("open server: %d, Cache-Control %q", rr.Code, rr.Header().Get("Cache-Control"))
	}
}

func TestAccessTokensSetting(t *testing.T) {
	for value, ok := range map[string]bool{
		"": true, "planner-0123456789abcdef": true, "a-0123456789abcdef, b-0123456789abcdef": true,
		"short": false, "planner 0123456789abcdef": false, "planner-0123456789abcdef,tiny": false, "toké-0123456789abcdef": false,
	} {
		cfg := &Config{}
		cfg.BindFlags(pflag.NewFlagSet("onemap", pflag.ContinueOnError))
		cfg.AccessTokens = value
		if err := cfg.Validate(); (err == nil) != ok {
			t.Errorf("ONEMAP_ACCESS_TOKENS=%q: error %v, want accepted=%v", value, err, ok)
		}
	}
	for uri, want := range map[string]string{
		"/tiles/premises/1/2/3.mvt?tag=red&token=planner-0123456789abcdef&kind=basement": "/tiles/premises/1/2/3.mvt?tag=red&token=[redacted]&kind=basement",
		"/tiles?%74oken=planner-0123456789abcdef":                                        "/tiles?token=[redacted]",
		"/tiles?tokens=1": "/tiles?tokens=1",
	} {
		if got := redactToken(uri); got != want {
			t.Errorf("logged URI %s, want %s", got, want)
		}
	}
	if s := fmt.Sprint((&Config{AccessTokens: "planner-0123456789abcdef"}).LogValue()); strings.Contains(s, "planner-0123456789abcdef") {
		t.Errorf("the printed configuration shows an access token: %s", s)
	}
}
