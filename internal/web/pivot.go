package web

import "net/http"

// registerPivot mounts the pivot table.
func (s *Server) registerPivot(h func(string, http.HandlerFunc)) {}
