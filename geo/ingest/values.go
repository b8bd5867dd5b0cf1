package ingest

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/onemap-city/onemap/geo"
)

// ChinaTime is the zone of timestamps written without one. China has kept
// UTC+8 without daylight saving since 1991, so a fixed zone is exact for the
// data OneMap imports and needs no tz database on the server.
var ChinaTime = time.FixedZone("CST", 8*60*60)

// localLayouts are the zone-less timestamp forms accepted, read in ChinaTime.
// Fractional seconds are accepted after the seconds by time.Parse itself.
var localLayouts = []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"}

// absent reports whether a property value means "no value": JSON null or a
// blank string (spreadsheet exports write "" for empty cells).
func absent(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	}
	return false
}

// parseValue converts a property value to the Go value for column c. It
// returns nil, "" for an absent value and a reason when the value does not
// fit the column; the reason quotes the value and says what was expected.
func parseValue(c geo.Column, v any) (any, string) {
	if absent(v) {
		return nil, ""
	}
	switch c.Type {
	case geo.Text, geo.Ref:
		if s, ok := scalarText(v); ok {
			return s, ""
		}
		return nil, fmt.Sprintf("%s is not text", describe(v))
	case geo.Enum:
		s, _ := scalarText(v)
		for _, e := range c.Enum {
			if strings.EqualFold(s, e) {
				return e, ""
			}
		}
		return nil, fmt.Sprintf("%s is not one of %s", describe(v), strings.Join(c.Enum, ", "))
	case geo.Int:
		n, why := parseInt(v)
		if why != "" {
			return nil, why
		}
		if why := bounds(c, float64(n)); why != "" {
			return nil, why
		}
		return n, ""
	case geo.Float:
		f, why := parseFloat(v)
		if why != "" {
			return nil, why
		}
		if why := bounds(c, f); why != "" {
			return nil, why
		}
		return f, ""
	case geo.Bool:
		return parseBool(v)
	case geo.Date:
		if s, ok := v.(string); ok {
			if t, err := time.Parse("2006-01-02", strings.TrimSpace(s)); err == nil {
				return t, ""
			}
		}
		return nil, fmt.Sprintf("%s is not a date (YYYY-MM-DD)", describe(v))
	case geo.Timestamp:
		if s, ok := v.(string); ok {
			if t, ok := parseTime(strings.TrimSpace(s)); ok {
				return t, ""
			}
		}
		return nil, fmt.Sprintf("%s is not a time (RFC 3339, or YYYY-MM-DD HH:MM:SS in China time)", describe(v))
	}
	return nil, fmt.Sprintf("column type %q cannot be imported", c.Type)
}

func parseTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	for _, layout := range localLayouts {
		if t, err := time.ParseInLocation(layout, s, ChinaTime); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseInt accepts JSON numbers and numeric strings holding a whole number
// ("12", "12.0") that fits a PostgreSQL integer.
func parseInt(v any) (int64, string) {
	s, ok := numberText(v)
	if !ok {
		return 0, fmt.Sprintf("%s is not a whole number", describe(v))
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < math.MinInt32 || n > math.MaxInt32 {
			return 0, fmt.Sprintf("%s is too large for an integer column", describe(v))
		}
		return n, ""
	}
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil && !isRange(err), math.IsNaN(f), math.IsInf(f, 0):
		return 0, fmt.Sprintf("%s is not a whole number", describe(v))
	case f != math.Trunc(f):
		return 0, fmt.Sprintf("%s is not a whole number", describe(v))
	case f < math.MinInt32 || f > math.MaxInt32:
		return 0, fmt.Sprintf("%s is too large for an integer column", describe(v))
	}
	return int64(f), ""
}

func parseFloat(v any) (float64, string) {
	s, ok := numberText(v)
	if !ok {
		return 0, fmt.Sprintf("%s is not a number", describe(v))
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRange(err) {
		return 0, fmt.Sprintf("%s is not a number", describe(v))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Sprintf("%s is not a finite number", describe(v))
	}
	return f, ""
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// parseBool accepts JSON booleans, 1 and 0, and the usual words in English
// and Chinese.
func parseBool(v any) (any, string) {
	switch x := v.(type) {
	case bool:
		return x, ""
	case json.Number, string:
		s, _ := scalarText(x)
		switch strings.ToLower(s) {
		case "true", "t", "yes", "y", "1", "是", "真":
			return true, ""
		case "false", "f", "no", "n", "0", "否", "假":
			return false, ""
		}
	}
	return nil, fmt.Sprintf("%s is not a boolean (true/false, 1/0, yes/no, 是/否)", describe(v))
}

func bounds(c geo.Column, f float64) string {
	if c.Min != nil && f < *c.Min {
		return fmt.Sprintf("%v is below the minimum %v", f, *c.Min)
	}
	if c.Max != nil && f > *c.Max {
		return fmt.Sprintf("%v is above the maximum %v", f, *c.Max)
	}
	return ""
}

// numberText returns the digits of a JSON number or a numeric-looking string.
func numberText(v any) (string, bool) {
	switch x := v.(type) {
	case json.Number:
		return string(x), true
	case string:
		return strings.TrimSpace(x), true
	}
	return "", false
}

// scalarText returns a string, number or boolean as text, trimmed.
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x), true
	case json.Number:
		return string(x), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// describe names a value in a message: strings quoted, numbers as written.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return clip(x)
	case json.Number:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%v", v)
}
