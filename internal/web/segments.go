package web

import "net/http"

// registerSegmentPages mounts the segment pages.
func (s *Server) registerSegmentPages(h func(string, http.HandlerFunc)) {}
