// Package tiles serves the catalogue's layers as Mapbox Vector Tiles: it
// parses and validates tile requests, builds one SQL statement per tile from
// the catalogue, caches encoded tiles (identity and gzip) with request
// coalescing and invalidation by data version, and speaks HTTP (tiles,
// TileJSON, the catalogue, purge) and PMTiles export.
package tiles

import (
	"net/url"
	"slices"
	"strings"

	"github.com/onemap-city/onemap/geo"
)

// Request is one tile: which layers, where, and which features.
type Request struct {
	Layers  []*geo.Layer
	Addr    geo.TileAddr
	Filters Filters
}

// Filters are the validated filter parameters of a request (see geo.ParseFilters).
type Filters = geo.Filters

// LayerIDs returns the ids of the request's layers joined by commas.
func (r Request) LayerIDs() string { return ids(r.Layers) }

// Key identifies the request's tile in the cache.
func (r Request) Key() string {
	return r.LayerIDs() + "/" + r.Addr.String() + "?" + r.Filters.Key()
}

// ParseLayers reads a comma-separated list of catalogue layer ids. An unknown
// layer is ENotFound; an empty or repeated one is EInvalid.
func ParseLayers(s string) ([]*geo.Layer, error) {
	var out []*geo.Layer
	for _, id := range strings.Split(s, ",") {
		if id == "" {
			return nil, geo.Invalid("layer", "empty layer name in %q", s)
		}
		l, err := geo.LookupLayer(id)
		if err != nil {
			return nil, err
		}
		if slices.Contains(out, l) {
			return nil, geo.Invalid("layer", "layer %q is named twice", id)
		}
		out = append(out, l)
	}
	return out, nil
}

// ParseFilters validates a tile request's query parameters (geo.ParseFilters).
func ParseFilters(layers []*geo.Layer, q url.Values) (Filters, error) {
	return geo.ParseFilters(layers, q)
}

func ids(layers []*geo.Layer) string { return geo.LayerList(layers) }
