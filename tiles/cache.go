package tiles

import (
	"container/list"
	"sync"

	"github.com/onemap-city/onemap/geo"
)

// Tile is one encoded tile as served: both encodings, made once.
type Tile struct {
	Identity  []byte   // the MVT bytes; empty for an empty tile
	Gzip      []byte   // the same, gzip-compressed
	ETag      string   // strong validator of Identity, quoted
	ETagGzip  string   // the gzip representation's own validator
	Truncated []string // layers that hit the feature cap
}

// size is the tile's cost against the cache budget.
func (t *Tile) size() int64 { return int64(len(t.Identity) + len(t.Gzip) + 128) }

// Cache holds encoded tiles within a byte budget, least recently used out
// first. It is safe for concurrent use.
type Cache struct {
	mu      sync.Mutex
	budget  int64
	used    int64
	order   *list.List // front: most recently used
	entries map[string]*list.Element
}

type cacheEntry struct {
	key    string
	layers []string
	addr   geo.TileAddr
	tile   *Tile
}

// NewCache returns a cache that holds at most budget bytes of tiles.
func NewCache(budget int64) *Cache {
	return &Cache{budget: budget, order: list.New(), entries: map[string]*list.Element{}}
}

// Get returns the tile cached under key.
func (c *Cache) Get(key string) (*Tile, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cacheEntry).tile, true
}

// Set caches t under key; layers and addr let Purge find it. A tile larger
// than the whole budget is not cached.
func (c *Cache) Set(key string, layers []string, addr geo.TileAddr, t *Tile) {
	if t.size() > c.budget {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		c.used -= e.Value.(*cacheEntry).tile.size()
		c.order.Remove(e)
	}
	c.entries[key] = c.order.PushFront(&cacheEntry{key: key, layers: layers, addr: addr, tile: t})
	c.used += t.size()
	for c.used > c.budget {
		c.remove(c.order.Back())
	}
}

func (c *Cache) remove(e *list.Element) {
	ce := e.Value.(*cacheEntry)
	c.order.Remove(e)
	delete(c.entries, ce.key)
	c.used -= ce.tile.size()
}

// Purge drops the tiles that contain layer (any layer when ""), and that
// overlap bbox (minLon, minLat, maxLon, maxLat) when bbox is not nil. It
// returns how many tiles it dropped.
func (c *Cache) Purge(layer string, bbox *[4]float64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for e := c.order.Front(); e != nil; {
		next := e.Next()
		ce := e.Value.(*cacheEntry)
		if (layer == "" || contains(ce.layers, layer)) && (bbox == nil || overlaps(ce.addr, *bbox)) {
			c.remove(e)
			n++
		}
		e = next
	}
	return n
}

// Stats returns the number of cached tiles and their bytes.
func (c *Cache) Stats() (tiles int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.used
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// overlaps reports whether tile a (with its buffer, which is small) touches bbox.
func overlaps(a geo.TileAddr, bbox [4]float64) bool {
	minX, minY, maxX, maxY := geo.TileRange(a.Z, bbox)
	return a.X >= minX-1 && a.X <= maxX+1 && a.Y >= minY-1 && a.Y <= maxY+1
}
