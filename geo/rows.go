package geo

// Rows is a stream of query results, as the capability packages read them
// from the database adapter (pgx.Rows satisfies it). Close must be called;
// Err reports what ended the stream early.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}
