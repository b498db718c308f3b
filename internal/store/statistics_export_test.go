package store

// OwnGINIndexesQuery is ownGINIndexesQuery.
const OwnGINIndexesQuery = ownGINIndexesQuery
