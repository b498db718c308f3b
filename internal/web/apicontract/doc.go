// Package apicontract holds only tests: the names the browser UI
// (internal/web) and the REST API (internal/api) must agree on.
package apicontract
