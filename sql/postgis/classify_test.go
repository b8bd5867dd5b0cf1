package postgis

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/onemap-city/onemap/geo"
)

// TestClassify: database failures become the geo codes handlers map to
// 503, 504 and 400; anything else passes unchanged.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&pgconn.PgError{Code: "57014", Message: "canceling statement due to statement timeout"}, geo.ETimeout},
		{&pgconn.PgError{Code: "XX000", Message: "lwgeom_unaryunion_prec: GEOS Error: InterruptedException: Interrupted!"}, geo.ETimeout},
		{&pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, geo.EUnavailable},
		{&pgconn.PgError{Code: "23514", Message: "violates check constraint"}, geo.EInvalid},
		{fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "08006"}), geo.EUnavailable},
		{&pgconn.PgError{Code: "XX000", Message: "some other internal error"}, geo.EInternal},
		{errors.New("plain"), geo.EInternal},
	} {
		if got := geo.ErrorCode(Classify(tc.err)); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.err, got, tc.want)
		}
	}
}
