package analytics

import (
	"fmt"
	"testing"
)

// TestMemoBounds: a sized memo keeps at most its bytes, the oldest entries
// dropped first; a value larger than the whole bound is returned, not kept;
// a new version of a key replaces the old one's bytes.
func TestMemoBounds(t *testing.T) {
	m := newSizedMemo(10, 100, func(b []byte) int64 { return int64(len(b)) })
	computed := 0
	get := func(key string, v int64, n int) []byte {
		t.Helper()
		b, err := m.get(key, v, func() ([]byte, error) { computed++; return make([]byte, n), nil })
		if err != nil || len(b) != n {
			t.Fatalf("get(%s): %d bytes, %v", key, len(b), err)
		}
		return b
	}
	held := func() string {
		m.mu.Lock()
		defer m.mu.Unlock()
		var total int64
		for _, e := range m.entries {
			total += e.bytes
		}
		if total != m.bytes || len(m.entries) != len(m.order) {
			t.Fatalf("books: %d bytes counted, %d summed; %d entries, %d in order", m.bytes, total, len(m.entries), len(m.order))
		}
		return fmt.Sprint(m.order, m.bytes)
	}
	get("a", 1, 40)
	get("b", 1, 40)
	if got := held(); got != "[a b] 80" {
		t.Fatalf("after a, b: %s", got)
	}
	get("c", 1, 40) // 120 > 100: a goes
	if got := held(); got != "[b c] 80" {
		t.Fatalf("after c: %s", got)
	}
	get("b", 2, 10) // a new version replaces b's bytes
	if got := held(); got != "[b c] 50" {
		t.Fatalf("after b at version 2: %s", got)
	}
	before := computed
	get("c", 1, 40)
	if computed != before {
		t.Error("c at the same version was computed again")
	}
	get("big", 1, 500) // more than the bound: used, not kept, nothing pushed out
	if got := held(); got != "[b c] 50" {
		t.Fatalf("after an oversized value: %s", got)
	}
	// The entry bound still holds without sizes.
	n := newMemo[int](2)
	for i, k := range []string{"x", "y", "z"} {
		_, _ = n.get(k, 1, func() (int, error) { return i, nil })
	}
	if fmt.Sprint(n.order) != "[y z]" {
		t.Errorf("entry-bounded memo holds %v, want [y z]", n.order)
	}
	if s := sliceBytes(make([]HexStat, 3)); s != 3*96 {
		t.Errorf("sliceBytes of 3 HexStats: %d, want %d", s, 3*96)
	}
}
