package store

// SetSearchWindow changes how many newest customers a PostgreSQL search
// walks before it turns to the trigram index, so tests with a few hundred
// customers reach both plans. It returns a function that restores it.
func SetSearchWindow(n int) (restore func()) {
	old := searchWindow
	searchWindow = n
	return func() { searchWindow = old }
}
