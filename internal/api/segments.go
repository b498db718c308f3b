package api

import "github.com/danielgtaylor/huma/v2"

// registerSegments mounts the segments, target lists, tasks and experiments endpoints (being written).
func (s *Server) registerSegments(api huma.API) {}
