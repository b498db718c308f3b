package api

import "github.com/danielgtaylor/huma/v2"

// registerAnalytics mounts the analytics endpoints (being written).
func (s *Server) registerAnalytics(api huma.API) {}
