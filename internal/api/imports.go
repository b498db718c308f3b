package api

import "github.com/danielgtaylor/huma/v2"

// registerImports mounts the file imports endpoints (being written).
func (s *Server) registerImports(api huma.API) {}
