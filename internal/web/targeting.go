package web

import "net/http"

// registerTargetingPages mounts target lists, tasks, the success board and initiatives.
func (s *Server) registerTargetingPages(h func(string, http.HandlerFunc)) {}
