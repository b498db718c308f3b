// Package apicontract checks the names the UI and the API must agree on.
// It lives apart from the web tests so that the UI's tests do not need the
// API package to build.
package apicontract_test

import (
	"testing"

	"github.com/rapportcrm/rapport/internal/api"
	"github.com/rapportcrm/rapport/internal/web"
)

func TestSessionCookieIsTheOneTheAPIAccepts(t *testing.T) {
	if web.SessionCookie != api.SessionCookie {
		t.Fatalf("web uses cookie %q, the API %q", web.SessionCookie, api.SessionCookie)
	}
}

func TestRepRestrictionSettingIsTheAPIs(t *testing.T) {
	if web.RepsOwnOnlySetting != api.RepsOwnOnlySetting {
		t.Fatalf("web reads setting %q, the API %q", web.RepsOwnOnlySetting, api.RepsOwnOnlySetting)
	}
}
