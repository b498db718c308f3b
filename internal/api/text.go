package api

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/rapportcrm/rapport/internal/textcheck"
)

// refuseUnstorableText answers a request whose URL or JSON body holds a
// NUL character or bytes that are not UTF-8 before its handler runs: 400
// for the URL, 422 for the body. PostgreSQL cannot store such text and
// SQLite would, so both engines refuse it here, alike.
func refuseUnstorableText(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		u := ctx.URL()
		if err := textcheck.URL(&u); err != nil {
			huma.WriteErr(api, ctx, http.StatusBadRequest, "the URL is not usable: "+err.Error())
			return
		}
		r, _ := humago.Unwrap(ctx)
		if r.Body == nil || r.Body == http.NoBody || !isJSON(r.Header.Get("Content-Type")) {
			next(ctx)
			return
		}
		// Read what huma would read, and no more: a larger body goes on
		// unread, for huma to refuse as too large.
		limit := ctx.Operation().MaxBodyBytes
		if limit <= 0 {
			limit = 1 << 20
		}
		buf, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			huma.WriteErr(api, ctx, http.StatusBadRequest, "the request body could not be read")
			return
		}
		if int64(len(buf)) > limit {
			r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
			next(ctx)
			return
		}
		if err := textcheck.JSON(buf); err != nil {
			huma.WriteErr(api, ctx, http.StatusUnprocessableEntity, "the request body is not usable: "+err.Error(),
				&huma.ErrorDetail{Location: "body", Message: err.Error()})
			return
		}
		r.Body = readCloser{bytes.NewReader(buf), r.Body}
		next(ctx)
	}
}

// isJSON reports whether a Content-Type is JSON (application/json,
// application/merge-patch+json, …) or missing, which huma reads as JSON.
func isJSON(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// readCloser reads from r and closes the original body.
type readCloser struct {
	io.Reader
	io.Closer
}
