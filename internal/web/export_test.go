package web

import "slices"

// Routes lists the patterns Register mounted ("METHOD /path/{id}"), so a
// test can sweep every route, new ones included, without a list of its own.
func (s *Server) Routes() []string { return slices.Clone(s.routes) }
