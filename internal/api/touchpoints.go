package api

import "github.com/danielgtaylor/huma/v2"

// registerTouchpoints mounts the orders, timeline, merges, duplicates and sources endpoints (being written).
func (s *Server) registerTouchpoints(api huma.API) {}
