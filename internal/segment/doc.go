// Package segment is Rapport's rule language for describing groups of
// customers, such as
//
//	tier in ("gold","silver") and p_alive < 0.5 and orders_90d = 0 and city = "上海"
//
// A rule is parsed (syntax errors carry a line and column), checked against
// a Catalogue of the fields the workspace has (custom attributes from the
// field registry, identities, tags, stats, scores and behaviour), and then
// compiled two ways that always agree: to a parameterized SQL condition for
// counts and member lists, and to an in-memory predicate that decides one
// customer's membership when their data changes.
//
// The package is pure: it never touches the database or the clock. Values
// written in a rule only ever travel as SQL parameters, never inside the
// SQL text.
package segment
