package ingest_test

import (
	"fmt"
	"io"
	"strings"

	"github.com/onemap-city/onemap/geo"
	"github.com/onemap-city/onemap/geo/ingest"
)

func ExampleReader() {
	file := `ext_id,status,installed_at,lon,lat,pressure_mpa
H-1,in_service,2019-05-01,120.6551,27.7793,0.35
H-2,broken,,120.6602,abc,
`
	r, err := ingest.NewReader(strings.NewReader(file), geo.Catalogue["hydrants"], ingest.Options{Format: ingest.CSV})
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if !row.OK() {
			for _, rej := range row.Rejections {
				fmt.Println("rejected:", rej)
			}
			continue
		}
		fmt.Println(row.ExtID, row.Geom, row.Props)
	}
	// Output:
	// H-1 [120.6551 27.7793] map[pressure_mpa:0.35]
	// rejected: row 3: lat: latitude "abc" is not a number
	// rejected: row 3: status: "broken" is not one of in_service, faulty, out_of_service
}
