package importer

// SetBulkRows changes the expected row count above which an import runs as
// a store.Bulk, so small test files take that path. It returns a function
// that restores it.
func SetBulkRows(n int64) (restore func()) {
	old := bulkRows
	bulkRows = n
	return func() { bulkRows = old }
}
