package postgis_test

import (
	"testing"

	"github.com/onemap-city/onemap/sql/postgis/postgistest"
)

func TestMain(m *testing.M) { postgistest.Main(m) }
