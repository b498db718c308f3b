package store

// MergeSearchIndexesQuery is mergeSearchIndexesQuery.
const MergeSearchIndexesQuery = mergeSearchIndexesQuery
